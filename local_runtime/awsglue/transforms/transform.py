"""``GlueTransform``: the base class of the ``awsglue.transforms`` classes.

From AWS's page (aws-glue-api-crawler-pyspark-transforms-GlueTransform.html): ``apply(*args,
**kwargs)`` calls the transform, ``name()`` is the class name, and ``describe()`` gathers
``describeArgs()``, ``describeReturn()`` and ``describeErrors()``. Here the arguments are read
from each transform's ``__call__`` signature and described from :data:`ARGS`.
"""

from __future__ import annotations

import inspect
from typing import Any

#: Type and description of each argument a transform's ``__call__`` takes.
ARGS: dict[str, tuple[str, str]] = {
    "frame": ("DynamicFrame", "The DynamicFrame to transform"),
    "frame1": ("DynamicFrame", "The first DynamicFrame to join"),
    "frame2": ("DynamicFrame", "The second DynamicFrame to join"),
    "keys1": ("List[str]", "The keys to join on in the first frame"),
    "keys2": ("List[str]", "The keys to join on in the second frame"),
    "dfc": ("DynamicFrameCollection", "The collection of DynamicFrames"),
    "key": ("str", "The key of the DynamicFrame to select"),
    "mappings": ("List[Tuple[str, str, str, str]]", "(source path, source type, target path, target type) tuples"),
    "paths": ("List[str]", "Full paths of the fields"),
    "old_name": ("str", "Full path of the field to rename"),
    "new_name": ("str", "New full path of the field"),
    "specs": (
        "List[Tuple[str, str]]",
        "(field path, action) pairs: cast:<type>, project:<type>, make_cols, make_struct",
    ),
    "choice": ("str", "One action for every choice type (also match_catalog)"),
    "database": ("str", "The Data Catalog database for match_catalog"),
    "table_name": ("str", "The Data Catalog table for match_catalog"),
    "catalog_id": ("str", "The catalog ID (account) of the Data Catalog"),
    "f": ("Callable[[DynamicRecord], Any]", "The function applied to each record"),
    "staging_path": ("str", "Where pivoted tables may be staged"),
    "name": ("str", "The name of the root table"),
    "options": ("dict", "Options of the transform"),
    "name1": ("str", "The name of the first frame of the result"),
    "name2": ("str", "The name of the second frame of the result"),
    "comparison_dict": ("dict", 'Field path -> {comparator: value}, e.g. {"age": {">": 10}}'),
    "path": ("str", "The path of the field, or of the destination"),
    "format": ("str", "The format of the boxed data"),
    "BaseTransform": ("GlueTransform", "The transform to apply to each frame of the collection"),
    "frame_name": ("str", "The argument name by which each frame is passed to BaseTransform"),
    "base_kwargs": ("dict", "More arguments for BaseTransform"),
    "transformation_ctx": ("str", "A unique string identifying state information (job bookmarks)"),
    "info": ("str", "A string associated with errors in the transformation"),
    "stageThreshold": ("int", "The maximum number of errors in this transformation (0: no limit)"),
    "totalThreshold": ("int", "The maximum number of errors up to and including this transformation (0: no limit)"),
}


class GlueTransform:
    """The base class of the ``awsglue.transforms`` classes; each defines ``__call__``."""

    #: Type and description of what the transform returns.
    RETURNS = ("DynamicFrame", "A new DynamicFrame")

    @classmethod
    def apply(cls, *args: Any, **kwargs: Any) -> Any:
        """Calls the transform with these arguments and returns its result."""
        return cls()(*args, **kwargs)

    @classmethod
    def name(cls) -> str:
        return cls.__name__

    @classmethod
    def describeArgs(cls) -> list[dict[str, Any]]:
        if cls is GlueTransform:
            raise NotImplementedError("GlueTransform.describeArgs is defined by each transform")
        described = []
        for param in list(inspect.signature(cls.__call__).parameters.values())[1:]:
            type_name, description = ARGS[param.name]
            optional = param.default is not param.empty or param.kind is param.VAR_KEYWORD
            default = None if param.default is param.empty else repr(param.default)
            described.append(
                {
                    "name": param.name,
                    "type": type_name,
                    "description": description,
                    "optional": optional,
                    "defaultValue": default,
                }
            )
        return described

    @classmethod
    def describeReturn(cls) -> dict[str, str]:
        if cls is GlueTransform:
            raise NotImplementedError("GlueTransform.describeReturn is defined by each transform")
        return {"type": cls.RETURNS[0], "description": cls.RETURNS[1]}

    @classmethod
    def describeTransform(cls) -> str:
        if cls is GlueTransform:
            raise NotImplementedError("GlueTransform.describeTransform is defined by each transform")
        return inspect.getdoc(cls).split("\n\n")[0]

    @classmethod
    def describeErrors(cls) -> list[dict[str, str]]:
        return []

    @classmethod
    def describe(cls) -> dict[str, Any]:
        return {
            "transform": {
                "name": cls.name(),
                "args": cls.describeArgs(),
                "returns": cls.describeReturn(),
                "raises": cls.describeErrors(),
                "location": "internal",
            }
        }
