"""What a browser and a CDN need to read a published build: CORS, read access, negotiation.

- :mod:`assetpipe.conf.edge`: the ``cors`` and ``cdn`` options, validated once;
- :mod:`assetpipe.edge.cors`: the one CORS rule, as S3 rules, nginx headers and edge headers
  (``cors.js`` states it in the generated edge code);
- :mod:`assetpipe.edge.negotiation`: which keys have ``.br``/``.gz`` variants an edge may pick,
  and how a request's ``Accept-Encoding`` picks one; the generated edge code embeds it;
- :mod:`assetpipe.publish.cors_rule`: the bucket's CORS configuration, read, compared and written;
- :mod:`assetpipe.publish.policies`: the bucket policies that let browsers or a CDN read the prefix;
- :mod:`assetpipe.edge.cloudfront`, :mod:`assetpipe.edge.cloudflare`: the generated edge code
  and the CDN's policies.
"""
