#!/usr/bin/env python3
"""Checks that every workspace crate declares a true MSRV.

A crate's `rust-version` must be at least the highest `rust-version` of the
packages it builds: its normal and build dependencies, transitively, as
resolved in Cargo.lock (`cargo metadata --format-version 1 --all-features`:
every optional dependency a feature can turn on counts). A crate that is
not published (`publish = false`: examples, test support, the e2e tests) is
built with its dev-dependencies too, so they count for it as well.

Dependencies are taken for every target platform (not only this machine's),
so a Windows-only dependency that needs a newer compiler is reported too.

Prints one line per workspace crate (declared, required, the dependency that
forces it and the path to it) and exits 1 when a crate declares less than it
needs, or declares no rust-version at all, or when its README does not say
"Minimum supported Rust version: <its rust-version>". Run from anywhere in the workspace;
CI runs it (.ci/run). Only reads metadata: no toolchain other than the
installed one is needed (nor can one be installed here), so this does not
prove that the crate builds on that version; clippy's `incompatible_msrv`
lint (on in CI) covers the standard library items the code itself uses.
"""

import json
import os
import re
import subprocess
import sys


def parse_version(text):
    """'1.94' or '1.94.0' -> (1, 94, 0); None for an absent rust-version."""
    if not text:
        return None
    parts = [int(p) for p in text.split(".")]
    return tuple(parts + [0] * (3 - len(parts)))


def show(version):
    return "%d.%d" % version[:2] if version[2] == 0 else "%d.%d.%d" % version


def main():
    metadata = json.loads(
        subprocess.run(
            ["cargo", "metadata", "--format-version", "1", "--locked", "--all-features"],
            check=True,
            stdout=subprocess.PIPE,
        ).stdout
    )
    packages = {p["id"]: p for p in metadata["packages"]}
    nodes = {n["id"]: n for n in metadata["resolve"]["nodes"]}

    members = set(metadata["workspace_members"])

    def edges(node_id, kinds):
        """Dependencies of a package reached through the given dependency kinds."""
        for dep in nodes[node_id]["deps"]:
            if any(k["kind"] in kinds for k in dep["dep_kinds"]):
                yield dep["pkg"]

    def walk(member, first_kinds):
        """Everything built for `member`, each with the package it was reached from.

        The first edge takes `first_kinds`, the rest normal and build
        dependencies (breadth first, so each path is a shortest one)."""
        parent = {}
        queue = []
        for dep in edges(member, first_kinds):
            if dep not in parent:
                parent[dep] = member
                queue.append(dep)
        while queue:
            current = queue.pop(0)
            for dep in edges(current, (None, "build")):
                if dep not in parent and dep != member:
                    parent[dep] = current
                    queue.append(dep)
        return parent

    def highest(member, parent):
        """(rust-version, package, path) of the highest rust-version reached.

        On a tie an outside package is named rather than a workspace crate
        (whose own rust-version is checked on its own line)."""
        best = None
        for dep in parent:
            version = parse_version(packages[dep].get("rust_version"))
            if version is None:
                continue
            key = (version, dep not in members)
            if best is None or key > best[0]:
                best = (key, dep)
        if best is None:
            return None, None, ""
        forcing = best[1]
        path = []
        node = forcing
        while node != member:
            path.append("%s %s" % (packages[node]["name"], packages[node]["version"]))
            node = parent[node]
        path.reverse()
        because = "%s (rust-version %s) via %s" % (
            packages[forcing]["name"],
            packages[forcing]["rust_version"],
            " -> ".join([packages[member]["name"]] + path),
        )
        return best[0][0], forcing, because

    failures = 0
    rows = []
    for member in metadata["workspace_members"]:
        package = packages[member]
        name = package["name"]
        declared = parse_version(package.get("rust_version"))
        publishable = package.get("publish") != []
        # A published crate's users build its normal and build dependencies;
        # a crate that is not published is only built here, with its tests.
        first_kinds = (None, "build") if publishable else (None, "build", "dev")
        required, forcing, because = highest(member, walk(member, first_kinds))
        scope = "normal+build" if publishable else "normal+build+dev"
        if declared is None:
            status = "FAIL: no rust-version declared"
            failures += 1
        elif required is not None and declared < required:
            status = "FAIL: declares %s, needs %s" % (show(declared), show(required))
            failures += 1
        else:
            status = "ok"
        line = "%-14s declared %-6s required %-6s [%s] %s; %s" % (
            name,
            show(declared) if declared else "-",
            show(required) if required else "-",
            scope,
            status,
            "forced by " + because if forcing else "no dependency declares a rust-version",
        )
        if publishable:
            # For information: what building its own tests and benches takes.
            dev_required, dev_forcing, dev_because = highest(
                member, walk(member, (None, "build", "dev"))
            )
            if dev_required is not None and (required is None or dev_required > required):
                line += "\n%14s (its tests and benches need %s: %s)" % (
                    "",
                    show(dev_required),
                    dev_because,
                )
        readme = package.get("readme")
        if readme and declared:
            path = os.path.join(os.path.dirname(package["manifest_path"]), readme)
            with open(path, encoding="utf-8") as f:
                stated = re.search(r"Minimum supported Rust version: ([0-9.]+)", f.read())
            if not stated or parse_version(stated.group(1)) != declared:
                line += "\n%14s FAIL: %s says %s, not %s" % (
                    "",
                    os.path.relpath(path),
                    "MSRV " + stated.group(1) if stated else "no \"Minimum supported Rust version: ...\"",
                    show(declared),
                )
                failures += 1
        rows.append(line)
    for row in sorted(rows):
        print(row)
    if failures:
        print(
            "\n%d problem(s) above: a crate's `rust-version` must be at least what its "
            "dependencies need, and its README must state it." % failures,
            file=sys.stderr,
        )
        return 1
    print("\nevery workspace crate's rust-version covers its dependencies")
    return 0


if __name__ == "__main__":
    sys.exit(main())
