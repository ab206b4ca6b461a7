"""``awsglue.transforms``: the transform classes of AWS's "PySpark transforms" pages.

Each is a :class:`~awsglue.transforms.transform.GlueTransform` whose ``__call__`` takes the
arguments AWS documents (``ApplyMapping.apply(frame=..., mappings=..., transformation_ctx=...)``)
and delegates to the :class:`~awsglue.dynamicframe.DynamicFrame` method of the same job.
"""

from __future__ import annotations

from awsglue._unsupported import unsupported
from awsglue.dynamicframe import DynamicFrameCollection
from awsglue.transforms.transform import GlueTransform

__all__ = [
    "ApplyMapping",
    "DropFields",
    "DropNullFields",
    "ErrorsAsDynamicFrame",
    "Filter",
    "FlatMap",
    "GlueTransform",
    "Join",
    "Map",
    "MapToCollection",
    "Relationalize",
    "RenameField",
    "ResolveChoice",
    "SelectFields",
    "SelectFromCollection",
    "Spigot",
    "SplitFields",
    "SplitRows",
    "Unbox",
    "UnnestFrame",
]

_COLLECTION = ("DynamicFrameCollection", "A new DynamicFrameCollection")
_THRESHOLD_ERRORS = [
    {"type": "ErrorThresholdExceeded", "description": "More error records than stageThreshold or totalThreshold"}
]


class ApplyMapping(GlueTransform):
    """Applies a declarative mapping (select, rename, cast, nest) to a DynamicFrame."""

    def __call__(self, frame, mappings, transformation_ctx="", info="", stageThreshold=0, totalThreshold=0):
        return frame.apply_mapping(
            mappings,
            transformation_ctx=transformation_ctx,
            info=info,
            stageThreshold=stageThreshold,
            totalThreshold=totalThreshold,
        )


class DropFields(GlueTransform):
    """Drops fields (nodes) of a DynamicFrame."""

    def __call__(self, frame, paths, transformation_ctx="", info="", stageThreshold=0, totalThreshold=0):
        return frame.drop_fields(paths, transformation_ctx, info, stageThreshold, totalThreshold)


class DropNullFields(GlueTransform):
    """Drops the fields that are null (or missing) in every record of a DynamicFrame."""

    def __call__(self, frame, transformation_ctx="", info="", stageThreshold=0, totalThreshold=0):
        return frame._drop_null_fields(stageThreshold, totalThreshold)


class ErrorsAsDynamicFrame(GlueTransform):
    """The error records made on the way to a DynamicFrame, as a DynamicFrame."""

    def __call__(self, frame):
        return frame.errorsAsDynamicFrame()


class Filter(GlueTransform):
    """Keeps the records of a DynamicFrame that satisfy a predicate function."""

    def __call__(self, frame, f, transformation_ctx="", info="", stageThreshold=0, totalThreshold=0):
        return frame.filter(f, transformation_ctx, info, stageThreshold, totalThreshold)

    @classmethod
    def describeErrors(cls):
        return _THRESHOLD_ERRORS


class Map(GlueTransform):
    """Applies a function to every record of a DynamicFrame."""

    def __call__(self, frame, f, transformation_ctx="", info="", stageThreshold=0, totalThreshold=0):
        return frame.map(f, transformation_ctx, info, stageThreshold, totalThreshold)

    @classmethod
    def describeErrors(cls):
        return _THRESHOLD_ERRORS


class Join(GlueTransform):
    """Performs an equality join of two DynamicFrames (keeping both frames' key fields)."""

    def __call__(self, frame1, frame2, keys1, keys2, transformation_ctx=""):
        return frame1.join(keys1, keys2, frame2, transformation_ctx)


class Relationalize(GlueTransform):
    """Flattens a DynamicFrame's nested structs and pivots its arrays out into separate tables."""

    RETURNS = _COLLECTION

    def __call__(
        self,
        frame,
        staging_path=None,
        name="roottable",
        options=None,
        transformation_ctx="",
        info="",
        stageThreshold=0,
        totalThreshold=0,
    ):
        return frame.relationalize(
            name, staging_path, options, transformation_ctx, info, stageThreshold, totalThreshold
        )


class RenameField(GlueTransform):
    """Renames a field (node) of a DynamicFrame; both names are full paths."""

    def __call__(self, frame, old_name, new_name, transformation_ctx="", info="", stageThreshold=0, totalThreshold=0):
        return frame.rename_field(old_name, new_name, transformation_ctx, info, stageThreshold, totalThreshold)


class ResolveChoice(GlueTransform):
    """Resolves the choice types of a DynamicFrame (``database``/``table_name`` for match_catalog)."""

    def __call__(
        self,
        frame,
        specs=None,
        choice="",
        transformation_ctx="",
        info="",
        stageThreshold=0,
        totalThreshold=0,
        database=None,
        table_name=None,
        catalog_id=None,
    ):
        return frame.resolveChoice(
            specs,
            choice,
            database,
            table_name,
            transformation_ctx,
            info,
            stageThreshold,
            totalThreshold,
            catalog_id,
        )


class SelectFields(GlueTransform):
    """Keeps only the given fields (nodes) of a DynamicFrame."""

    def __call__(self, frame, paths, transformation_ctx="", info="", stageThreshold=0, totalThreshold=0):
        return frame.select_fields(paths, transformation_ctx, info, stageThreshold, totalThreshold)


class SelectFromCollection(GlueTransform):
    """Selects one DynamicFrame of a DynamicFrameCollection by its key."""

    def __call__(self, dfc, key, transformation_ctx=""):
        return dfc.select(key, transformation_ctx)


class Spigot(GlueTransform):
    """Writes sample records of a DynamicFrame to a (local) destination and passes the frame on."""

    def __call__(self, frame, path, options, transformation_ctx=""):
        return frame.spigot(path, options, transformation_ctx)


class SplitFields(GlueTransform):
    """Splits a DynamicFrame in two by fields: the given ones, and the others."""

    RETURNS = _COLLECTION

    def __call__(
        self, frame, paths, name1=None, name2=None, transformation_ctx="", info="", stageThreshold=0, totalThreshold=0
    ):
        name1 = name1 if name1 is not None else f"{frame.name}1"
        name2 = name2 if name2 is not None else f"{frame.name}2"
        return frame.split_fields(paths, name1, name2, transformation_ctx, info, stageThreshold, totalThreshold)


class SplitRows(GlueTransform):
    """Splits a DynamicFrame in two by rows: those meeting every comparison, and the others."""

    RETURNS = _COLLECTION

    def __call__(
        self,
        frame,
        comparison_dict,
        name1="frame1",
        name2="frame2",
        transformation_ctx="",
        info=None,
        stageThreshold=0,
        totalThreshold=0,
    ):
        return frame.split_rows(
            comparison_dict, name1, name2, transformation_ctx, info or "", stageThreshold, totalThreshold
        )


class Unbox(GlueTransform):
    """Parses a string field of a DynamicFrame in a given format (not supported locally)."""

    def __call__(
        self, frame, path, format, transformation_ctx="", info="", stageThreshold=0, totalThreshold=0, **options
    ):
        raise unsupported("Unbox", "aws-glue-api-crawler-pyspark-transforms-Unbox.html")


class UnnestFrame(GlueTransform):
    """Flattens the nested structs of a DynamicFrame into top-level fields named with dots."""

    def __call__(self, frame, transformation_ctx="", info="", stageThreshold=0, totalThreshold=0):
        return frame.unnest(transformation_ctx, info, stageThreshold, totalThreshold)


class MapToCollection(GlueTransform):
    """Applies a transform to each DynamicFrame of a DynamicFrameCollection."""

    RETURNS = _COLLECTION

    def __call__(self, dfc, BaseTransform, frame_name, transformation_ctx="", **base_kwargs):
        frames = {key: BaseTransform.apply(**{frame_name: frame}, **base_kwargs) for key, frame in dfc._frames.items()}
        return DynamicFrameCollection(frames, dfc.glue_ctx)


class FlatMap(GlueTransform):
    """Applies a transform to each DynamicFrame of a collection and flattens the results into one collection."""

    RETURNS = _COLLECTION

    def __call__(self, dfc, BaseTransform, frame_name, transformation_ctx="", **base_kwargs):
        return dfc.flatmap(lambda frame: BaseTransform.apply(**{frame_name: frame}, **base_kwargs))
