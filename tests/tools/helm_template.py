"""`helm template` for the tests, on Helm's own Go library.

The PyPI package helm-python-sdk ships Helm's Go SDK as `libhelm_c.so`; this script
renders a chart with it and prints what `helm template` prints: each document headed by
`---` and `# Source: CHART/templates/FILE`. Only the flags nats-doctor passes are
accepted: `template NAME CHART [--namespace NS] [-f FILE]... [--set K=V]...`.
Used by the tests only; nats-doctor itself runs the `helm` it finds on PATH.
"""

import argparse
import re
import sys

import helm_python as helm

# Helm splits rendered templates into documents on lines that start with `---`.
SEPARATOR = re.compile(r"(?:^|\s*\n)---\s*")


def merge(into, values):
    """Values files and --set merge as Helm coalesces them: maps deeply, the rest replaced."""
    for key, value in values.items():
        if isinstance(value, dict) and isinstance(into.get(key), dict):
            merge(into[key], value)
        else:
            into[key] = value


def main(argv):
    if not argv or argv[0] != "template":
        print("this helm provides only `helm template`", file=sys.stderr)
        return 64
    parser = argparse.ArgumentParser(prog="helm template")
    parser.add_argument("name")
    parser.add_argument("chart")
    parser.add_argument("--namespace", "-n", default="default")
    parser.add_argument("--values", "-f", action="append", default=[])
    parser.add_argument("--set", action="append", default=[])
    args = parser.parse_args(argv[1:])
    values = {}
    try:
        for path in args.values:
            with open(path, encoding="utf-8") as file:
                merge(values, helm.values_from_yaml(file.read()))
        for expression in args.set:
            merge(values, helm.parse_set_string(expression))
        chart = helm.Chart.load(args.chart)
        manifests = chart.render(
            values, name=args.name, namespace=args.namespace, is_install=True
        )
    except helm.HelmError as error:
        print(f"Error: {error}", file=sys.stderr)
        return 1
    out = []
    for path in sorted(manifests):
        if path.endswith("NOTES.txt") or path.rsplit("/", 1)[-1].startswith("_"):
            continue
        for document in SEPARATOR.split(manifests[path].strip()):
            document = document.strip()
            # Helm leaves out documents that are empty or only comments.
            if any(line.strip() and not line.lstrip().startswith("#")
                   for line in document.splitlines()):
                out.append(f"---\n# Source: {path}\n{document}\n")
    sys.stdout.write("".join(out))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
