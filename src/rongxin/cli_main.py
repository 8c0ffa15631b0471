"""``python -m rongxin.cli_main``: the CLI as a module (benchmarks, subprocess tests)."""

from rongxin.cli import main

if __name__ == "__main__":
    main()
