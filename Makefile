.PHONY: demo test bench bench-medium bench-watch
demo:
	./scripts/demo.sh
test:
	./scripts/test.sh
bench:
	./scripts/setup.sh && python3 bench/run.py
bench-medium:
	./scripts/setup.sh && python3 bench/run.py --sizes medium
bench-watch:
	./scripts/setup.sh && python3 bench/watch.py
