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
-- define request(), so wrk sends one static request. It defines response() only when the
-- environment variable WRK_COUNT_HEADER names a header: the answers are then counted by that
-- header's value ("header_counts", e.g. X-Served-By: which app host a proxy chose), exactly, for
-- every answer of the measured run. wrk hands each answer's headers and body to Lua only when
-- response() exists, which costs the client CPU, so without the variable it keeps its fast path.

local MARKER = "WRK_JSON "
local PERCENTILES = { { "p50", 50 }, { "p75", 75 }, { "p90", 90 }, { "p99", 99 }, { "p99_9", 99.9 } }
-- The value counted for an answer without the header.
local MISSING = "(missing)"
local COUNT_HEADER = os.getenv("WRK_COUNT_HEADER")
if COUNT_HEADER == "" then
  COUNT_HEADER = nil
end

-- Each wrk thread runs its own copy of this script; setup() runs in the main one for every
-- thread, so done() can read each thread's counts (thread:get copies a table across).
local threads = {}
setup = function(thread)
  threads[#threads + 1] = thread
end

if COUNT_HEADER ~= nil then
  local wanted = COUNT_HEADER:lower()
  -- Per thread: answers by the header's value.
  header_counts = {}
  response = function(status, headers, body)
    local value = headers[COUNT_HEADER]
    if value == nil then
      -- wrk keeps the names as the server sent them; HTTP names are case-insensitive.
      for name, item in pairs(headers) do
        if name:lower() == wanted then
          value = item
          break
        end
      end
    end
    value = value or MISSING
    header_counts[value] = (header_counts[value] or 0) + 1
  end
end

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

  local document_fields = {
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
  }
  if COUNT_HEADER ~= nil then
    -- Summed over the threads, as {value: answers}, the values sorted (a stable output).
    local totals = {}
    for _, thread in ipairs(threads) do
      for value, count in pairs(thread:get("header_counts") or {}) do
        totals[value] = (totals[value] or 0) + count
      end
    end
    local values = {}
    for value in pairs(totals) do
      values[#values + 1] = value
    end
    table.sort(values)
    local count_fields = {}
    for _, value in ipairs(values) do
      count_fields[#count_fields + 1] = { value, json_number(totals[value]) }
    end
    document_fields[#document_fields + 1] = {
      "header_counts",
      json_object({ { "header", json_string(COUNT_HEADER) }, { "counts", json_object(count_fields) } }),
    }
  end

  local document = json_object(document_fields)

  io.write("\n" .. MARKER .. document .. "\n")
  io.stdout:flush()

  local path = os.getenv("WRK_JSON_FILE")
  if path ~= nil and path ~= "" then
    local file = assert(io.open(path, "w"))
    file:write(document .. "\n")
    file:close()
  end
end
