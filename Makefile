# The project's commands. `make synth` and `make test` are all a newcomer needs (see README).
SHELL := /bin/bash
.DEFAULT_GOAL := help

ENV ?= dev
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Node 22 and the pinned 2.x cdk CLI come from node_modules; jsii picks up that node too.
export PATH := $(CURDIR)/node_modules/.bin:$(CURDIR)/$(BIN):$(PATH)
CDK := cdk --no-notices
CDK_ARGS := -c env=$(ENV)

.PHONY: help setup synth test lint diff doctor deploy destroy bench gate baseline cost docs sample-data demo sagemaker-image baseline-model clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-8s %s\n", $$1, $$2}'

# What `python -O app.py` (cdk.json) imports from site-packages; a test keeps the list whole.
SYNTH_PACKAGES := aws_cdk jsii constructs cdk_nag pydantic pydantic_core annotated_types typing_inspection \
	yaml attr attrs cattr cattrs dateutil publication.py six.py typing_extensions.py

$(BIN)/.installed: requirements.txt requirements-dev.txt pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info[:2] < (3, 11) and "Python 3.11+ is required" or 0)'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	$(BIN)/pip install --quiet --disable-pip-version-check --no-deps --editable .  # the `dsp` command
	@# synth runs with -O (no jsii runtime type checks): its bytecode, written once, not on every synth
	site=$$($(BIN)/python -c 'import sysconfig; print(sysconfig.get_path("purelib"))') && \
		$(BIN)/python -O -m compileall -q -j 0 $(addprefix $$site/,$(SYNTH_PACKAGES)) >/dev/null
	@touch $@

# What only the tests and the workloads need (PySpark); `make synth` never installs it.
$(BIN)/.installed-test: $(BIN)/.installed requirements-test.txt
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-test.txt
	@touch $@

# Linux arm64 wheels of the Lambda functions' dependencies, built once per change of the pins (no Docker).
LAMBDA_DEPS := build/lambda-deps
$(LAMBDA_DEPS).installed: requirements-lambda.txt $(BIN)/.installed
	rm -rf $(LAMBDA_DEPS)
	$(BIN)/pip install --quiet --disable-pip-version-check --no-compile --only-binary=:all: \
		--platform manylinux_2_28_aarch64 --platform manylinux2014_aarch64 --python-version 3.14 --implementation cp \
		--target $(LAMBDA_DEPS)/python -r requirements-lambda.txt
	@touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

setup: $(BIN)/.installed node_modules/.installed $(LAMBDA_DEPS).installed ## create .venv and node_modules from the exact pins

synth: setup ## synthesize ENV (default dev) with all checks into cdk.out/ and summarize
	rm -rf cdk.out
	$(CDK) synth $(CDK_ARGS) --quiet
	$(BIN)/python -m scripts.synth_summary cdk.out

test: setup $(BIN)/.installed-test ## run the whole test suite (workloads need Java 17 for Spark)
	$(BIN)/python -m pytest -n auto --maxprocesses 4

lint: setup $(BIN)/.installed-test ## ruff, mypy on our packages
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# The replacement gate: does ENV's synth delete or replace a stateful resource of baseline/ENV.json, or add one it lacks?
gate: synth ## fail if ENV would delete or replace a stateful resource, or add one unrecorded (also part of make test)
	$(BIN)/python -m scripts.replacement_gate check --env $(ENV) cdk.out

baseline: setup ## record every environment's stateful resources in baseline/ (deliberately, then commit)
	$(BIN)/python -m scripts.replacement_gate update

cost: synth ## the idle monthly cost of ENV per resource, from its templates and scripts/prices.yaml
	$(BIN)/python -m scripts.cost cdk.out

docs: setup ## regenerate docs/architecture.md, docs/configuration.md, the idle cost in docs/cost.md and the README's diagram and totals
	$(BIN)/python -m scripts.docs

# diff and deploy use the assembly `make synth` just checked (cdk-nag and cfn-lint), not a new synth.
diff: synth ## compare ENV with what is deployed (needs AWS credentials)
	$(CDK) diff --app cdk.out --all

doctor: setup ## what the account lacks before ENV can deploy and run (read-only; needs AWS credentials)
	$(BIN)/dsp doctor --env $(ENV)

# `make deploy` runs `dsp doctor` first and stops on a problem; DOCTOR=0 skips it.
DOCTOR ?= 1
deploy: $(if $(filter 0,$(DOCTOR)),,doctor) gate ## dsp doctor, the replacement gate, then deploy every stack of ENV (DOCTOR=0: no doctor)
	$(CDK) deploy --app cdk.out --all --require-approval broadening

destroy: setup ## delete every stack of ENV; retained data stays
	$(CDK) destroy $(CDK_ARGS) --all

bench: setup ## time an empty app, the ENV synth and `make test`
	$(BIN)/python -m scripts.bench --env $(ENV)

# Generator arguments: STORES, DAYS, START (yyyy-mm-dd), DIRTY (share), OUT (folder); defaults in --help.
sample-data: $(BIN)/.installed ## write the seeded sample raw data set (default into sample-data/)
	$(BIN)/python -m workloads.sample_data $(if $(STORES),--stores $(STORES)) $(if $(DAYS),--days $(DAYS)) \
		$(if $(START),--start $(START)) $(if $(DIRTY),--dirty-share $(DIRTY)) --output $(or $(OUT),sample-data)

# The whole data path on this machine (Spark, scikit-learn; no AWS), then demo-output/report.html.
# Sizes: STORES, DAYS, START, TRANSACTIONS (a store's sales a day), VALIDATION (held-out days), OUT.
demo: $(BIN)/.installed-test ## run sample data through Glue, EMR, training and the endpoint's handlers locally; a report
	$(BIN)/python -m demo $(if $(STORES),--stores $(STORES)) $(if $(DAYS),--days $(DAYS)) \
		$(if $(START),--start $(START)) $(if $(TRANSACTIONS),--transactions $(TRANSACTIONS)) \
		$(if $(VALIDATION),--validation-days $(VALIDATION)) --output $(or $(OUT),demo-output)

# The model a fresh deployment serves until the first trained one is promoted: the sample data run
# through the demo's pipeline (Glue transform, EMR feature step, train.py) locally (Spark, ~3 min); same bytes every run.
baseline-model: $(BIN)/.installed-test ## rebuild workloads/sagemaker/baseline/model.joblib from the sample data
	$(BIN)/python -m scripts.baseline_model

# The SageMaker SDK's table of scikit-learn image registries; the SDK itself is never a dependency.
SAGEMAKER_CORE := sagemaker-core==2.27.0
SKLEARN_IMAGE := 1.9-0
sagemaker-image: $(BIN)/.installed ## regenerate config/sagemaker_image.py (image registries per region)
	rm -rf build/sagemaker-core
	$(BIN)/pip download --quiet --disable-pip-version-check --no-deps --dest build/sagemaker-core $(SAGEMAKER_CORE)
	$(BIN)/python -m scripts.sagemaker_image build/sagemaker-core/*.whl $(SKLEARN_IMAGE)
	$(BIN)/ruff format --quiet config/sagemaker_image.py

clean: ## remove generated output (not .venv or node_modules)
	rm -rf cdk.out build .bench .pytest_cache .mypy_cache .ruff_cache sample-data demo-output
