# Django Server Lab: the two commands are `make bench` and `make test`.
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(CURDIR)/$(VENV)/bin
# make deploy SERVER=uwsgi; unset, the app_server role's default server.
SERVER ?=
SCENARIOS ?= default switch ssh caddy cluster benchmark
# Lab benchmark: 3 interleaved rounds of 5 s closed-loop runs (spread you can judge), then fixed
# offered rates of 2.5 s each in the last round: `make bench` takes about 14.5 minutes.
# FULL=1 runs the study's settings: 30 s runs, 5 s warm-up, 10 s per offered rate.
FULL ?=
BENCH_DURATION ?= $(if $(FULL),30s,5s)
BENCH_WARMUP ?= $(if $(FULL),5s,1s)
BENCH_RATE_DURATION ?= $(if $(FULL),10,2.5)
# Seconds of the fairness probe (round 1): 0 = the probe's own choice, 5 to 60 s.
BENCH_PROBE_DURATION ?= $(if $(FULL),0,2)
BENCH_ROUNDS ?= 3
# The app's profile: lean (ours) or study (the published study's middleware; its table is printed
# beside ours).
APP_PROFILE ?= lean
# Extra benchmark options, e.g. BENCH_ARGS="-e caddy=true" (through Caddy).
BENCH_ARGS ?=
# Knob sweep: every endpoint (health/async on ASGI servers only), 2 interleaved rounds of 10 s.
SWEEP_ARGS ?= --endpoints health,health_sync,health_async,movies --rounds 2
# inventory/lab-loadgen adds a load-generator container: wrk runs there, not on the target.
INVENTORY ?= inventory/lab
export PATH := $(BIN):$(PATH)
export ANSIBLE_CONFIG := $(CURDIR)/ansible.cfg

.PHONY: help setup docker image lab cluster deploy rollback bench sweep audit lab-destroy lint test test-unit test-app \
	test-report test-molecule clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-15s %s\n", $$1, $$2}'

$(VENV)/.installed: requirements.txt app/requirements.txt app/requirements-dev.txt benchreport/pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.txt -r app/requirements-dev.txt
	# The report tools, as the package they are (editable: a change needs no reinstall).
	$(BIN)/pip install --quiet --no-deps --editable benchreport
	touch $@

setup: $(VENV)/.installed ## Controller: venv with Ansible, molecule, linters, test tools
	scripts/ensure-host-packages.sh

docker: ## Start a Docker engine when none answers (installs docker.io if needed)
	scripts/ensure-docker.sh

image: docker ## Build the lab's Debian 12 systemd image (debootstrap + docker import)
	scripts/build-image.sh

lab: setup image ## Bring up the local lab containers
	ansible-playbook -i $(INVENTORY) playbooks/lab.yml

cluster: setup image ## The lab as a cluster: Caddy, 2 app hosts, PostgreSQL + Redis, a load host
	ansible-playbook -i inventory/lab-cluster playbooks/lab.yml
	ansible-playbook -i inventory/lab-cluster site.yml $(if $(SERVER),-e server=$(SERVER))
	@echo "The cluster answers through Caddy on proxy1: curl -si http://172.30.81.10:8080/api/health"
	@echo "(X-Served-By names the app host). Hosts: docker exec -it dsl-cluster-app1 bash;"
	@echo "topology and rolling deploys: docs/cluster.md; remove: make lab-destroy INVENTORY=inventory/lab-cluster"

deploy: lab ## Deploy the app in the lab under SERVER (default: the role's default server)
	ansible-playbook -i $(INVENTORY) site.yml $(if $(SERVER),-e server=$(SERVER))

bench: lab ## Benchmark all six servers (closed loop, fixed rates, app ceiling), write the report
	ansible-playbook -i $(INVENTORY) playbooks/benchmark.yml -e benchmark_duration=$(BENCH_DURATION) \
		-e benchmark_warmup=$(BENCH_WARMUP) -e benchmark_rate_duration=$(BENCH_RATE_DURATION) \
		-e benchmark_probe_duration=$(BENCH_PROBE_DURATION) -e benchmark_ceiling_seconds=$(if $(FULL),2,1) \
		-e benchmark_rounds=$(BENCH_ROUNDS) -e app_profile=$(APP_PROFILE) $(BENCH_ARGS)

rollback: setup ## Roll the deployed hosts back to their previous release (zero-downtime handover)
	ansible-playbook -i $(INVENTORY) playbooks/rollback.yml

sweep: lab ## Sweep each server's knobs (the catalog's grids) in the lab (scripts/sweep_knobs.py)
	python scripts/sweep_knobs.py $(SWEEP_ARGS) --output results/sweep.md

audit: lab ## Lynis audit of the deployed hosts (installs lynis, nothing else): results/audit/<host>.md
	ansible-playbook -i $(INVENTORY) playbooks/audit.yml

lab-destroy: setup ## Remove the lab containers
	ansible-playbook -i $(INVENTORY) playbooks/lab_destroy.yml

lint: setup ## ruff, yamllint, ansible-lint (production profile), derived parts up to date
	ruff check app benchreport molecule roles tests scripts
	ruff format --check app benchreport molecule roles tests scripts
	python scripts/derive.py --check
	yamllint --strict .
	ansible-lint --offline --strict

test-unit: setup ## Controller-side tests: filters, specs, bad input rejected before changes
	pytest -q -n 2 tests

test-app: setup ## The Django app's tests (real Redis, SQLite)
	cd app && pytest -q

test-report: setup ## The benchmark tools' tests (real wrk runs on loopback)
	pytest -q benchreport/tests

test-molecule: setup image ## molecule test for every scenario (systemd containers)
	rm -f .build/junit-*.xml
	status=0; for scenario in $(SCENARIOS); do \
		molecule test --scenario-name $$scenario || { status=1; break; }; done; \
	python scripts/test_summary.py .build/junit-*.xml || true; exit $$status

test: lint test-unit test-app test-report test-molecule ## Everything CI runs

clean: ## Remove the venv and build artifacts
	rm -rf $(VENV) .build .ansible
