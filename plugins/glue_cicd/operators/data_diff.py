"""Data diff: how the shadow run's output differs from what prod consumers read now."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from glue_cicd.operators.base import artifact_from
from glue_cicd.operators.remote_checks import RemoteChecksOperator


class DataDiffOperator(RemoteChecksOperator):
    """Compare each output's shadow generation with the published prod dataset, on its key.

    Partitioned datasets are compared on the partitions the generation wrote. The full diff is
    stored as JSON beside the quality results; its summary goes into the approval request. A
    candidate whose key is not unique or has nulls, or a diff over the thresholds of the
    dataset's ``diff`` settings, fails the task before anyone is asked to approve. A dataset over
    ``distributed_checks``' size (either side) is diffed by the checks job, on Spark.

    :param artifact: the build task's result (``build.output``).
    :param generation: the shadow run's generation (the shadow deploy's ``generation``).
    :return: one entry per dataset: ``dataset``, ``summary`` (Markdown), ``result_uri``, and
        what the diff compared against (``table_version``, ``published_partitions``), which
        the publish checks is still what the catalog holds.
    """

    template_fields: Sequence[str] = ("job", "artifact", "generation_id")
    ui_color = "#f3e8fd"

    def __init__(self, *, job: str, artifact: Any, generation: Any, **kwargs):
        super().__init__(**kwargs)
        self.job = job
        self.artifact = artifact
        self.generation_id = generation

    def perform(self, context) -> list[dict[str, Any]]:
        from glue_cicd import data_diff, datasets
        from glue_cicd.quality import read_locations

        environments, specs = self.load()
        prod, settings = environments["prod"], environments.distributed_checks
        store, catalog = self.store(prod), self.catalog(prod)
        items = []
        for output in specs[self.job].datasets.outputs:
            location = datasets.generation_location(output, prod, self.generation_id)
            written = None
            if output.partition_by:
                written = datasets.written_partitions(store.conn, location, output.partition_by)
            table, partitions, where = datasets.published(catalog, prod, output, partitions=written)
            candidate = self.data_entry(store, [(location, {})], output, settings)
            published = None if where is None else self.data_entry(store, where, output, settings)
            about = {
                "output": output.name,
                "table_version": table.get("VersionId") if table else None,
                "published_partitions": partitions,
            }
            options = {
                "key": output.key,
                "partition_by": output.partition_by,
                "float_precision": output.diff.float_precision,
                "expected_changes": output.diff.expected_changes,
            }
            dataset = f"{prod.catalog_database}.{output.name}"
            if candidate["distributed"] or (published or {}).get("distributed"):
                # A partitioned table without these partitions yet: an empty published side.
                against = None if table is None else published or "empty"
                check = {"kind": "diff", "dataset": dataset, "candidate": candidate, "published": against,
                         "options": options}  # fmt: skip
                items.append({"about": about, "check": check})
                continue
            candidate_data = read_locations(store.conn, [(location, {})], output.format)
            published_data = None
            if table is not None:
                published_data = candidate_data.schema.empty_table()
                if where is not None:
                    published_data = read_locations(store.conn, where, output.format)
            report = data_diff.diff_tables(candidate_data, published_data, dataset=dataset, **options)
            items.append({"about": about, "result": report})
        return self.run_checks(context, prod, settings, items)

    def conclude(self, context, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        from glue_cicd import data_diff
        from glue_cicd.errors import Refusal

        environments, specs = self.load()
        prod = environments["prod"]
        store = self.store(prod)
        artifact = artifact_from(self.artifact)
        results, problems = [], []
        for item in items:
            about, report = item["about"], item["result"]
            if "refused" in report:
                raise Refusal(report["refused"])
            output = specs[self.job].output(about["output"])
            found = data_diff.problems(
                report,
                max_changed_share=output.diff.max_changed_share,
                max_removed_share=output.diff.max_removed_share,
            )
            key = f"_quality/{self.job}/{output.name}/{artifact.version}/diff-{context['run_id']}.json"
            result_uri = store.put_json(prod.data_bucket, key.replace(":", "-"), report)
            summary = data_diff.summary_markdown(report)
            self.log.info("%s\nfull diff: %s", summary, result_uri)
            problems += [f"{output.name}: {p}" for p in found]
            results.append(
                {
                    "dataset": output.name,
                    "summary": summary,
                    "result_uri": result_uri,
                    "first_release": report["first_release"],
                    "changed_share": report.get("changed_share"),
                    "table_version": about["table_version"],
                    "published_partitions": about["published_partitions"],
                }
            )
        self.ledger(environments).record(
            self.job, "data_diff", run_id=self.run_ref(context), version=artifact.version,
            generation=self.generation_id, problems=problems,
            results=[{k: r[k] for k in ("dataset", "result_uri", "changed_share")} for r in results],
        )  # fmt: skip
        if problems:
            raise Refusal("data diff refused the release; nothing was published: " + "; ".join(problems))
        return results
