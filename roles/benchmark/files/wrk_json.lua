-- wrk_json.lua: make wrk report its results as one JSON object, from wrk's own counters.
--
-- Usage:  wrk -t4 -c200 -d30s -s wrk_json.lua http://127.0.0.1:8000/path
--
-- wrk calls done(summary, latency, requests) once, after its text report. This script writes
-- ONE line to stdout:   WRK_JSON {...}
-- The fixed "WRK_JSON " prefix lets a caller find the object without parsing wrk's text report
-- (which we never scrape). When the environment variable WRK_JSON_FILE is set, the same object
-- is also written to that file. The fields are documented in benchreport/SCHEMA.md ("wrk").
--
-- Units: durations and latencies in microseconds, bytes in bytes, rates per second.
-- The request (method, path, host) comes from wrk's normal URL argument; this script does not
-- define request() or response(), so wrk keeps its fast path (static request, no body parsing).

local MARKER = "WRK_JSON "
local PERCENTILES = { { "p50", 50 }, { "p75", 75 }, { "p90", 90 }, { "p99", 99 }, { "p99_9", 99.9 } }

-- JSON number: integers exactly, other finite values with 3 decimals, NaN/inf as null.
local function json_number(value)
  if value == nil or value ~= value or value == math.huge or value == -math.huge then
    return "null"
  end
  if value == math.floor(value) and math.abs(value) < 2 ^ 53 then
    return string.format("%d", value)
  end
  return string.format("%.3f", value)
end

local function json_string(value)
  if value == nil then
    return "null"
  end
  local escaped = tostring(value):gsub('[%c"\\]', function(char)
    local named = { ['"'] = '\\"', ["\\"] = "\\\\", ["\n"] = "\\n", ["\r"] = "\\r", ["\t"] = "\\t" }
    return named[char] or string.format("\\u%04x", char:byte())
  end)
  return '"' .. escaped .. '"'
end

-- Build an object from an ordered list of {key, already-encoded value} pairs.
local function json_object(pairs_list)
  local parts = {}
  for _, pair in ipairs(pairs_list) do
    parts[#parts + 1] = json_string(pair[1]) .. ":" .. pair[2]
  end
  return "{" .. table.concat(parts, ",") .. "}"
end

-- The pairs {name, encode(source[name])} for each name, in order; all null when not `present`.
local function fields(source, names, encode, present)
  local list = {}
  for _, name in ipairs(names) do
    local value = "null"
    if present ~= false then
      value = encode(source[name])
    end
    list[#list + 1] = { name, value }
  end
  return list
end

done = function(summary, latency, requests)
  local duration_s = summary.duration / 1000000
  local rps = nil
  local bytes_per_s = nil
  if duration_s > 0 then
    rps = summary.requests / duration_s
    bytes_per_s = summary.bytes / duration_s
  end

  -- With no completed request wrk's latency histogram is empty: its min is a sentinel and its
  -- percentiles meaningless, so report null rather than numbers that look real.
  local has_latency = summary.requests > 0
  local latency_fields = fields(latency, { "min", "mean", "stdev", "max" }, json_number, has_latency)
  for _, spec in ipairs(PERCENTILES) do
    local value = has_latency and json_number(latency:percentile(spec[2])) or "null"
    latency_fields[#latency_fields + 1] = { spec[1], value }
  end

  -- "requests" is wrk's per-thread request rate, sampled every 100 ms.
  local has_rate = summary.requests > 0
  local rate_fields = fields(requests, { "mean", "stdev", "max" }, json_number, has_rate)
  local target_fields = fields(wrk, { "scheme", "host", "port", "method", "path" }, json_string)
  local error_fields =
    fields(summary.errors, { "connect", "read", "write", "status", "timeout" }, json_number)

  local document = json_object({
    { "format", json_string("wrk_json/1") },
    { "target", json_object(target_fields) },
    { "requests", json_number(summary.requests) },
    { "duration_us", json_number(summary.duration) },
    { "bytes", json_number(summary.bytes) },
    { "rps", json_number(rps) },
    { "bytes_per_s", json_number(bytes_per_s) },
    { "latency_us", json_object(latency_fields) },
    { "thread_rps", json_object(rate_fields) },
    { "errors", json_object(error_fields) },
  })

  io.write("\n" .. MARKER .. document .. "\n")
  io.stdout:flush()

  local path = os.getenv("WRK_JSON_FILE")
  if path ~= nil and path ~= "" then
    local file = assert(io.open(path, "w"))
    file:write(document .. "\n")
    file:close()
  end
end
