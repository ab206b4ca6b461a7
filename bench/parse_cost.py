"""DAG parse cost: each DAG file against its EmptyOperator twin, and the release file's scaling.

The anchor of each DAG file in ``dags/`` is its *twin*: a file generated from the DAGs that file
defines once parsed, of the same shape (the same DAGs with the same DAG-level arguments and params,
the same task ids, dependency edges, trigger rules, setup/teardown marks and mapping) where every
task is an ``EmptyOperator`` and nothing of ``glue_cicd`` is imported: what Airflow itself costs
for that shape, so the difference is our own work (specs, operators, wiring). Each twin is parsed
back and checked to have exactly that shape (``--twins DIR`` keeps them). Target: every file
within 1.5x of its twin. Parses use Airflow's own DagBag; bytecode is not written, so each parse
compiles its file, as under ``make`` (``PYTHONDONTWRITEBYTECODE``).

1. Warm: median of ``--repetitions`` parses of each file in one process, after one warm-up parse
   (imported modules stay cached); the file's and its twin's parses alternate, and the previous
   parse's garbage is collected (untimed) before each one. A trivial one-task file is timed too.
2. Cold: median of ``--cold`` parses, each in a child forked as Airflow's DAG processor forks
   one per file: the child inherits what the processor imported (its manager's modules and the
   ``airflow`` modules the DAG files name, which it pre-imports), so it pays every other import
   of the file (``glue_cicd`` and what that imports) on each parse, as the DAG processor does.
3. Scaling of ``release_glue_jobs.py`` (warm) with 1, 10, 100 and 500 job specs (generated
   copies of process_sales_data in a temporary folder), in a fresh process each. Target: under
   5 ms per job spec, linear.

Wall times; the CPU-time ratio is printed too, as it is less disturbed by other load.

    .venv/bin/python -m bench.parse_cost [--repetitions 30] [--cold 5] [--no-scaling] [--twins DIR]
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import enum
import gc
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import dev

PROJECT = dev.PROJECT_DIR
TARGET = 1.5
EMPTY_OPERATOR = "airflow.providers.standard.operators.empty"
TRIVIAL = """
from airflow.providers.standard.operators.empty import EmptyOperator
from airflow.sdk import DAG

with DAG("trivial", schedule=None, tags=["bench"]):
    EmptyOperator(task_id="noop")
"""


# -- measuring ----------------------------------------------------------------------------------


def parse_medians(paths: list[Path], repetitions: int) -> list[tuple[float, float]]:
    """Median wall time and median CPU time of one DagBag parse of each of ``paths``, their parses
    alternating. CPU time (this process's) is less disturbed by other load on a shared machine.

    Each file is parsed once first, untimed, so its imports stay cached (the DAG processor pays
    them on every parse: see :func:`cold_medians`); the previous parse's garbage is collected,
    untimed, before each timed parse.
    """
    from airflow.dag_processing.dagbag import DagBag

    bags = []
    for path in paths:
        bag = DagBag(dag_folder=str(path), collect_dags=False)
        bag.process_file(str(path), only_if_updated=False)
        if bag.import_errors:
            raise SystemExit(f"{path}: import errors: {bag.import_errors}")
        bags.append(bag)
    samples: list[list[tuple[float, float]]] = [[] for _ in paths]
    for _ in range(repetitions):
        for bag, path, times in zip(bags, paths, samples, strict=True):
            gc.collect()
            wall, cpu = time.perf_counter(), time.process_time()
            bag.process_file(str(path), only_if_updated=False)
            times.append((time.perf_counter() - wall, time.process_time() - cpu))
    return [(statistics.median(w for w, _ in times), statistics.median(c for _, c in times)) for times in samples]


def parsed(path: Path) -> list:
    """The DAGs ``path`` defines, from one DagBag parse."""
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(path), collect_dags=False)
    dags = bag.process_file(str(path), only_if_updated=False)
    if bag.import_errors:
        raise SystemExit(f"{path}: import errors: {bag.import_errors}")
    return dags


def cold_medians(paths: list[Path], repetitions: int) -> list[tuple[float, float]]:
    """Like :func:`parse_medians`, but each parse in a fresh process forked the way Airflow's DAG
    processor forks one per file: what it imported (its manager, and the ``airflow`` modules the
    file names, which it pre-imports) is inherited, the rest of the file's imports (ours) is paid
    by every parse. Run from a process that has not imported them (a new one)."""
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    code = (
        "import json, sys; from pathlib import Path; from bench.parse_cost import fork_parses;"
        " print(json.dumps(fork_parses([Path(p) for p in sys.argv[2:]], int(sys.argv[1]))))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code, str(repetitions), *map(str, paths)],
        cwd=PROJECT, env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    if result.returncode:
        raise SystemExit(f"cold parses failed:\n{result.stderr}")
    return [tuple(pair) for pair in json.loads(result.stdout.strip().splitlines()[-1])]


def fork_parses(paths: list[Path], repetitions: int) -> list[tuple[float, float]]:
    """The forking side of :func:`cold_medians`: median wall and CPU time of one parse per child."""
    import importlib

    import airflow.dag_processing.manager  # noqa: F401 - what the DAG processor's children inherit
    from airflow.utils.file import iter_airflow_imports

    for path in paths:
        for module in iter_airflow_imports(str(path)):
            with contextlib.suppress(Exception):  # the DAG processor logs a warning and goes on
                importlib.import_module(module)
    if any(name.split(".")[0] == "glue_cicd" for name in sys.modules):
        raise SystemExit("cold parses: glue_cicd was imported before forking")
    samples: list[list[tuple[float, float]]] = [[] for _ in paths]
    for _ in range(repetitions):
        for path, times in zip(paths, samples, strict=True):
            read, write = os.pipe()
            pid = os.fork()
            if pid == 0:  # the child: one parse, its times back through the pipe
                os.close(read)
                outcome = {}
                try:
                    from airflow.dag_processing.dagbag import DagBag

                    bag = DagBag(dag_folder=str(path), collect_dags=False)
                    wall, cpu = time.perf_counter(), time.process_time()
                    bag.process_file(str(path), only_if_updated=False)
                    outcome = {"times": [time.perf_counter() - wall, time.process_time() - cpu]}
                    if bag.import_errors:
                        outcome = {"error": str(bag.import_errors)}
                except BaseException as exc:  # reported by the parent
                    outcome = {"error": repr(exc)}
                finally:
                    os.write(write, json.dumps(outcome).encode())
                    os._exit(0)
            os.close(write)
            with os.fdopen(read) as pipe:
                outcome = json.loads(pipe.read() or "{}")
            os.waitpid(pid, 0)
            if "times" not in outcome:
                raise SystemExit(f"{path}: cold parse failed: {outcome.get('error', 'no answer')}")
            times.append(tuple(outcome["times"]))
    return [(statistics.median(w for w, _ in times), statistics.median(c for _, c in times)) for times in samples]


# -- the twin -----------------------------------------------------------------------------------


class Source:
    """Python source that rebuilds values found on parsed DAGs, and the imports it needs."""

    def __init__(self) -> None:
        self.imports: dict[str, set[str]] = {}  # module -> names ("" for ``import module``)

    def need(self, module: str, name: str = "") -> str:
        self.imports.setdefault(module, set()).add(name)
        return name or module

    def header(self) -> list[str]:
        lines = [f"import {module}" for module, names in sorted(self.imports.items()) if "" in names]
        lines += [
            f"from {module} import {', '.join(sorted(names - {''}))}"
            for module, names in sorted(self.imports.items())
            if names - {""}
        ]
        return lines

    def __call__(self, value: Any) -> str:
        import attrs
        import pendulum
        from airflow.sdk.definitions.asset import AssetAll, AssetAny

        if isinstance(value, enum.Enum):
            return repr(value.value)
        if value is None or isinstance(value, bool | int | float | str):
            return repr(value)
        if isinstance(value, pendulum.DateTime):
            fields = (value.year, value.month, value.day, value.hour, value.minute, value.second, value.microsecond)
            return f"{self.need('pendulum')}.datetime({', '.join(map(str, fields))}, tz={value.timezone_name!r})"
        if isinstance(value, datetime.datetime | datetime.timedelta):
            self.need("datetime")
            return repr(value)
        if isinstance(value, dict):
            return "{" + ", ".join(f"{self(k)}: {self(v)}" for k, v in value.items()) + "}"
        if isinstance(value, list | tuple):
            items = ", ".join(self(v) for v in value)
            return f"[{items}]" if isinstance(value, list) else f"({items}{',' if len(value) == 1 else ''})"
        if isinstance(value, set | frozenset):
            return "{" + ", ".join(sorted(self(v) for v in value)) + "}" if value else "set()"
        if isinstance(value, AssetAny | AssetAll):
            return f"{self.cls(type(value))}({', '.join(self(o) for o in value.objects)})"
        if attrs.has(type(value)):  # Asset, timetables: the arguments that differ from the defaults
            arguments = []
            for field in attrs.fields(type(value)):
                item = getattr(value, field.name)
                if not field.init or item == self._default(field, value):
                    continue
                arguments.append(f"{field.alias}={self(item)}")
            return f"{self.cls(type(value))}({', '.join(arguments)})"
        raise TypeError(f"twin: cannot write a {type(value).__qualname__} as source ({value!r}); teach Source")

    @staticmethod
    def _default(field, instance) -> Any:
        import attrs

        default = field.default
        if isinstance(default, attrs.Factory):  # type: ignore[arg-type]
            return default.factory(instance) if default.takes_self else default.factory()
        return default

    def cls(self, cls: type) -> str:
        """The class's name, imported from ``airflow.sdk`` when it is exported there."""
        import airflow.sdk

        module = "airflow.sdk" if getattr(airflow.sdk, cls.__name__, None) is cls else cls.__module__
        return self.need(module, cls.__name__)


def dag_arguments(dag) -> dict[str, Any]:
    """The DAG's constructor arguments that differ from a bare ``DAG(dag_id)``'s, params apart."""
    import attrs
    from airflow.sdk import DAG

    bare = DAG(dag.dag_id, schedule=None)
    arguments = {}
    for field in attrs.fields(DAG):
        if field.init and field.name not in ("dag_id", "params", "task_group"):
            value = getattr(dag, field.name)
            if value != getattr(bare, field.name):
                arguments[field.alias] = value
    return arguments


def trigger_rule(task) -> str:
    from airflow.sdk import TriggerRule

    return TriggerRule(task.trigger_rule).value


def is_mapped(task) -> bool:
    from airflow.sdk.definitions.mappedoperator import MappedOperator

    return isinstance(task, MappedOperator)


def shape(dags: list) -> dict[str, Any]:
    """What a twin must reproduce of ``dags``: DAG-level arguments, params, tasks and edges."""
    return {
        dag.dag_id: {
            "arguments": dag_arguments(dag),
            "params": {name: dag.params.get_param(name).dump() for name in dag.params},
            "tasks": {
                task.task_id: {
                    "downstream": sorted(task.downstream_task_ids),
                    "trigger_rule": trigger_rule(task),
                    "setup": task.is_setup,
                    "teardown": task.is_teardown,
                    "mapped": is_mapped(task),
                }
                for task in dag.tasks
            },
        }
        for dag in dags
    }


def twin_source(dags: list, name: str) -> str:
    """A DAG file defining ``dags``' shape with EmptyOperators only."""
    from airflow.sdk.bases.xcom import BaseXCom
    from airflow.sdk.definitions.xcom_arg import PlainXComArg

    source = Source()
    source.need("airflow.sdk", "DAG")  # also what makes the DagBag import the file (safe mode)
    body = []
    for dag in dags:
        arguments = [f"dag_id={dag.dag_id!r}"]
        arguments += [f"{key}={source(value)}" for key, value in dag_arguments(dag).items()]
        if dag.params:
            params = []
            for param_name in dag.params:
                dump = dag.params.get_param(param_name).dump()
                extra = [f"description={dump['description']!r}"] if dump["description"] is not None else []
                extra += [f"{key}={source(value)}" for key, value in dump["schema"].items()]
                param = source.need("airflow.sdk", "Param")
                params.append(f"{param_name!r}: {param}({source(dump['value'])}, {', '.join(extra)})")
            arguments.append("params={" + ", ".join(params) + "}")
        body.append(f"with DAG({', '.join(arguments)}):")
        variables: dict[str, str] = {}
        for number, task in enumerate(dag.tasks):
            if task.task_group is not None and task.task_group.group_id is not None:
                raise NotImplementedError(f"twin: task {task.task_id} is in a task group")
            variable = variables[task.task_id] = f"t{number}"
            empty = source.need(EMPTY_OPERATOR, "EmptyOperator")
            keywords = [f"task_id={task.task_id!r}"]
            if trigger_rule(task) != "all_success" and not task.is_teardown:
                keywords.append(f"trigger_rule={trigger_rule(task)!r}")
            if is_mapped(task):
                if task.is_setup or task.is_teardown:
                    raise NotImplementedError(f"twin: mapped setup/teardown {task.task_id}")
                value = getattr(task.expand_input, "value", None)
                if type(task.expand_input).__name__ != "ListOfDictsExpandInput" or not isinstance(value, PlainXComArg):
                    raise NotImplementedError(
                        f"twin: {task.task_id} is mapped otherwise than expand_kwargs(task.output)"
                    )
                output = f"{variables[value.operator.task_id]}.output"
                if value.key != BaseXCom.XCOM_RETURN_KEY:
                    output += f"[{value.key!r}]"
                body.append(f"    {variable} = {empty}.partial({', '.join(keywords)}).expand_kwargs({output})")
                continue
            mark = ".as_setup()" if task.is_setup else ""
            if task.is_teardown:
                mark = f".as_teardown({'on_failure_fail_dagrun=True' if task.on_failure_fail_dagrun else ''})"
            body.append(f"    {variable} = {empty}({', '.join(keywords)}){mark}")
        for task in dag.tasks:
            downstream = [variables[task_id] for task_id in sorted(task.downstream_task_ids)]
            if downstream:
                target = downstream[0] if len(downstream) == 1 else f"[{', '.join(downstream)}]"
                body.append(f"    {variables[task.task_id]} >> {target}")
    docstring = f'"""Twin of dags/{name}: its DAGs\' shape, EmptyOperators only (generated by bench/parse_cost.py)."""'
    return "\n".join([docstring, *source.header(), "", *body]) + "\n"


def write_twin(dag_file: Path, target: Path) -> str:
    """Write ``dag_file``'s twin to ``target``, parse it back and check its shape; return a
    description of that shape."""
    from airflow.providers.standard.operators.empty import EmptyOperator

    dags = parsed(dag_file)
    text = twin_source(dags, dag_file.name)
    if re.search(r"^(from|import) glue_cicd\b", text, re.MULTILINE):
        raise SystemExit(f"{target}: the twin of {dag_file.name} would import glue_cicd")
    target.write_text(text)
    twins = parsed(target)
    expected, got = shape(dags), shape(twins)
    if got != expected:
        differences = [
            f"{dag_id}.{part}: {expected[dag_id][part]!r} != {got.get(dag_id, {}).get(part)!r}"
            for dag_id in expected
            for part in expected[dag_id]
            if expected[dag_id][part] != got.get(dag_id, {}).get(part)
        ] or [f"DAGs {sorted(expected)} != {sorted(got)}"]
        raise SystemExit(f"{target}: the twin's shape differs from {dag_file.name}'s: " + "; ".join(differences))
    for dag in twins:
        for task in dag.tasks:
            operator = getattr(task, "operator_class", type(task))
            if not (isinstance(operator, type) and issubclass(operator, EmptyOperator)):
                raise SystemExit(f"{target}: {dag.dag_id}.{task.task_id} is not an EmptyOperator")
    sizes = sorted({len(dag.tasks) for dag in dags})
    described = f"{len(dags)} DAG{'s' if len(dags) != 1 else ''}"
    if dags:
        described += f" x {'/'.join(map(str, sizes))} task{'s' if sizes != [1] else ''}"
    return described


# -- scaling ------------------------------------------------------------------------------------


def write_jobs(folder: Path, count: int) -> None:
    """``count`` copies of process_sales_data's spec (empty scripts), ``job_0000`` onwards."""
    source = (PROJECT / "glue_jobs" / "process_sales_data" / "job.yaml").read_text()
    for i in range(count):
        job = folder / f"job_{i:04d}"
        job.mkdir(parents=True, exist_ok=True)
        (job / "job.py").write_text("")
        text = source.replace("name: process_sales_data", f"name: job_{i:04d}")
        text = text.replace("- name: clean_sales\n", f"- name: clean_sales_{i}\n")  # one catalog table each
        (job / "job.yaml").write_text(text.replace("/curated/sales/", f"/curated/sales_{i}/"))
    from glue_cicd.spec import load_jobs

    specs, errors = load_jobs(folder)
    if len(specs) != count:  # an invalid copy would parse as nothing and flatter the figures
        example = next(iter(errors.values()))
        raise SystemExit(f"{len(errors)} of the {count} generated specs are invalid, e.g. {example}")


def scaling(count: int, repetitions: int) -> float:
    """Median parse time of the release DAG file with ``count`` specs, in a fresh process."""
    with tempfile.TemporaryDirectory() as tmp:
        write_jobs(Path(tmp), count)
        env = {
            **os.environ,
            "GLUE_CICD_JOBS_DIR": tmp,
            "AIRFLOW_HOME": tmp + "/home",
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "PYTHONDONTWRITEBYTECODE": "1",
        }
        code = (
            "import json, sys; from pathlib import Path; from bench.parse_cost import parse_medians;"
            f" print(json.dumps(parse_medians([Path(sys.argv[1])], {repetitions})[0][0]))"
        )
        result = subprocess.run(
            [sys.executable, "-c", code, str(PROJECT / "dags" / "release_glue_jobs.py")],
            cwd=PROJECT, env=env, capture_output=True, text=True, check=False,
        )  # fmt: skip
        if result.returncode:
            raise SystemExit(f"scaling with {count} specs failed:\n{result.stderr}")
        return json.loads(result.stdout.strip().splitlines()[-1])


# -- report -------------------------------------------------------------------------------------


def row(name: str, described: str, ours: tuple[float, float], twin: tuple[float, float]) -> str:
    """One file's line: medians (wall), ratio, target, and the ratio of CPU times."""
    met = "met" if ours[0] <= TARGET * twin[0] else "MISSED"
    return (
        f"  {name:<28} {described:<18} {ours[0] * 1000:7.2f} ms {twin[0] * 1000:7.2f} ms"
        f" {ours[0] / twin[0]:6.2f}x  {met:<7} {ours[1] / twin[1]:6.2f}x"
    )


HEADER = (
    f"  {'file':<28} {'shape':<18} {'ours':>10} {'twin':>10} {'ratio':>7}  {'<= ' + str(TARGET) + 'x':<7} cpu ratio"
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repetitions", type=int, default=30, help="timed parses per file (default 30)")
    parser.add_argument("--cold", type=int, default=5, metavar="N", help="cold parses per file (default 5; 0: none)")
    parser.add_argument("--no-scaling", action="store_true", help="skip the scaling with 1/10/100/500 job specs")
    parser.add_argument("--twins", type=Path, metavar="DIR", help="write the generated twins to this folder (kept)")
    args = parser.parse_args()
    sys.dont_write_bytecode = True
    with tempfile.TemporaryDirectory() as tmp:
        os.environ.setdefault("AIRFLOW_HOME", f"{tmp}/airflow")  # before Airflow is imported
        os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
        folder = args.twins or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        files = []
        for path in sorted((PROJECT / "dags").glob("*.py")):
            twin = folder / f"twin_{path.name}"
            described = write_twin(path, twin)
            files.append((path, twin, described))

        print(f"DAG files against their EmptyOperator twins, median of {args.repetitions} DagBag parses each:")
        print(HEADER)
        for path, twin, described in files:
            print(row(path.name, described, *parse_medians([path, twin], args.repetitions)))
        trivial = Path(tmp) / "trivial_dag.py"
        trivial.write_text(TRIVIAL)
        [(base, _)] = parse_medians([trivial], args.repetitions)
        print(f"  (for reference, a one-task trivial DAG file: {base * 1000:.2f} ms)")

        if args.cold:
            print(
                f"\nCold: each parse in a fresh process forked as the DAG processor forks one per file (it has"
                f" pre-imported\nthe airflow modules the file names, not ours), median of {args.cold}:"
            )
            print(HEADER)
            medians = cold_medians([p for path, twin, _ in files for p in (path, twin)], args.cold)
            for number, (path, _, described) in enumerate(files):
                print(row(path.name, described, medians[2 * number], medians[2 * number + 1]))
        if args.twins:
            print(f"\ntwins kept in {folder}")

    if args.no_scaling:
        return
    print("\nrelease_glue_jobs.py by number of job specs:")
    previous = None
    for count in (1, 10, 100, 500):
        cost = scaling(count, max(3, args.repetitions // (1 + count // 50)))
        line = f"  {count:4d} specs: {cost * 1000:9.1f} ms, {cost / count * 1000:6.2f} ms per spec (target < 5)"
        if previous:
            line += f", x{cost / previous[1]:.1f} time for x{count / previous[0]:.0f} specs"
        print(line)
        previous = (count, cost)


if __name__ == "__main__":
    main()
