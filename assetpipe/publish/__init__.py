"""Publishing a built STATIC_ROOT to S3: list the bucket, upload what it lacks, manifest last.

The public interface is :mod:`assetpipe.publish.s3`; the other modules each hold one step.
"""
