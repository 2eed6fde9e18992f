# The two commands of the README: `make demo` and `make test`. Each sets up .venv and
# Graphviz's `dot` on a fresh machine first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test bench gallery dot lint clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

dot:
	@command -v dot >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing Graphviz (dot) with apt-get"; \
	    apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq graphviz >/dev/null; \
	  else \
	    echo "Graphviz's 'dot' is missing: install it (sudo apt-get install graphviz, brew install graphviz)"; \
	  fi; }

test: $(STAMP) dot
	HYPOTHESIS_PROFILE=ci $(BIN)/python -m pytest -q -n 2 -p no:cacheprovider

demo: $(STAMP) dot
	$(BIN)/python -m tools.demo

bench: $(STAMP)
	$(BIN)/python -m tools.bench

gallery: $(STAMP) dot
	$(BIN)/python -m tools.gallery

lint: $(STAMP)
	$(BIN)/ruff check minigrad models tools tests examples

clean:
	rm -rf $(VENV) out
