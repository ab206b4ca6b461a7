"""The ``awsglue`` API on plain local PySpark, for where AWS's own library is absent.

Written from AWS's public Glue documentation so that Glue scripts written against ``awsglue``
run unmodified on the local AWS emulator, in the release's test stage and in a job's pytest.
``local_runtime/`` is put on PYTHONPATH there; it is never shipped to AWS Glue, which has the
real library.

A :class:`~awsglue.dynamicframe.DynamicFrame` here wraps a Spark DataFrame (plus the choice
types a read found), so its transforms run as Spark SQL. What is not implemented raises
:class:`~awsglue._unsupported.NotSupportedLocally` naming the call and its documentation page.
"""
