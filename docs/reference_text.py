"""The sentences of the reference pages: what each option, command and check is for.

``docs/gen_reference.py`` takes the names, defaults, accepted values, arguments, levels and hints
from the code, and only the descriptions from here. It stops, naming the entry, when the code
has an option, subcommand or check id that this file does not describe, or when this file
describes one the code no longer has; ``tests/docs/test_reference.py`` runs it.

Descriptions are Markdown. ``${name}`` is replaced by a value from the code (see
``gen_reference.CONSTANTS``); a literal dollar sign is ``$$``.
"""

from __future__ import annotations

# --- STORAGES["staticfiles"]["OPTIONS"] of AssetPipeStorage ------------------------------------

STATIC_OPTIONS: dict[str, str] = {
    "encodings": (
        "The precompressed variants written beside every file worth compressing: `.br` "
        "(brotli, quality 11) and `.gz` (gzip, level 9). `[]` writes none."
    ),
    "missing_references": (
        '`"fail"`: a reference to a missing file, a CSS/JS file that is not UTF-8, a circular '
        "reference or a bundler record's problem fails `collectstatic` as Django's storage does "
        "(same exception types, `Post-processing '…' failed!`), listing every missing reference "
        'found. `"warn"`: they are warnings and the reference is left as written. (Django\'s '
        "`manifest_strict` is another matter: what `{% static %}` does with a name the "
        "manifest lacks.)"
    ),
    "js_module_imports": (
        "Also rewrite ES module `import`/`export` specifiers and `import()` in `*.js` files, with "
        "Django 6.1's rules (nothing inside comments, strings or template literals) on every "
        "supported Django version."
    ),
    "integrity": (
        "Record each served file's Subresource Integrity value and the JS module graph in "
        "`staticfiles.json` ([manifest keys](manifest.md)), for the "
        "[template tags](../how-to/templates.md). Off, the manifest is byte for byte Django's."
    ),
    "import_map": (
        "Glob patterns (as in Django's `patterns`, matched against the collected name; `*` "
        "matches `/` too) of the modules `{% importmap %}` maps. Needs `integrity`, which "
        "builds the module graph it maps: set without it, start-up fails."
    ),
    "never_compress": (
        'Extensions (`"pdf"` or `".pdf"`, any case) never compressed, added to the default '
        "list, which is below."
    ),
    "workers": "Threads compressing, and encoding images, in parallel.",
    "state_dir": (
        "Where the build state, the compressed-bytes cache, the publish record and the build "
        "lock live. Never inside STATIC_ROOT (`assetpipe.E004`); one directory can serve many "
        "projects. Keep it between CI runs to get a no-change build from a fresh checkout."
    ),
    "lock_timeout": (
        "Seconds a build waits for another build of the same STATIC_ROOT before failing."
    ),
    "s3": (
        "Publish to S3 after building; [its keys](#s3-publishing-to-s3) are below. "
        "See [Publish to S3](../how-to/s3.md)."
    ),
    "prehashed": (
        "Glob patterns relative to STATIC_URL: bundler output that keeps its name "
        "([bundlers](../how-to/bundlers.md)); `[hash]` matches 8 or more of `A-Z a-z 0-9 - _`. "
        "Files listed in a bundler's record need no pattern: Vite's manifest, "
        "webpack-bundle-tracker's stats (also at django-webpack-loader's `STATS_FILE`), "
        "webpack-manifest-plugin's manifest, esbuild's metafile."
    ),
    "prehashed_records": (
        "Bundler records outside the collected tree, whose files are prehashed like those "
        "`prehashed` matches; read as the records inside the tree are: an esbuild "
        "metafile, a webpack-manifest-plugin manifest or a webpack-bundle-tracker stats file "
        "that no `WEBPACK_LOADER` entry names ([bundlers](../how-to/bundlers.md)). Each file "
        "must exist; one that cannot be read is a record problem."
    ),
    "cors": (
        "The origins that may read the static files cross-origin (a page on one host, "
        "STATIC_URL on a bucket's or a CDN's): the bucket's CORS rule "
        "(`manage.py assetpipe cors`) and the headers the edge code adds. "
        "[Its keys](#cors-cross-origin-reads) are below."
    ),
    "cdn": (
        "The CDN in front of the bucket that picks the `.br`/`.gz` (and image) variants by "
        "`Accept-Encoding` and `Accept`: ${cdns}; `manage.py assetpipe edge` writes its code. "
        'Needs `s3` with its variants in the bucket (`"variants"`: `"static_root_and_bucket"` '
        'or `"bucket"`); every file that may have variants then gets every one, and publishing '
        "refuses a build that lacks a variant."
    ),
    "images": (
        "AVIF and WebP variants beside each raster image (`x.jpg.avif`, `x.jpg.webp`), kept "
        "when smaller, for `{% static_picture %}` and for servers that pick by `Accept` "
        "([images](../how-to/images.md)); adds the `images` key to `staticfiles.json`. "
        "[Its keys](#images-avif-and-webp-variants) are below."
    ),
    "minify": (
        'The kinds of files minified before they are hashed: `"css"`, `"js"` (`.js`, `.mjs`, '
        "`.cjs`), each on its own; needs the `minify` extra. `.min.` names, minified content, "
        "files with a `sourceMappingURL` and bundler output are left as they are "
        "([minify](../how-to/minify.md))."
    ),
    "dictionaries": (
        "Deltas of each content-named CSS/JS file against its versions in the last builds "
        "(RFC 9842 `dcz`, `x.js.<id>.dcz`), sent to a browser that still holds one "
        "([compression dictionaries](../how-to/dictionaries.md)); adds the `dictionaries` key "
        "to `staticfiles.json`. [Its keys](#dictionaries-deltas-against-earlier-builds) are "
        "below."
    ),
    "debug_unknown_names": (
        "With `DEBUG = True`, what `{% static %}` does with a name no staticfiles finder finds "
        '(or one starting with `/`): `"raise"` production\'s `ValueError: Missing staticfiles '
        'manifest entry`, `"warn"` log one warning per name, `"ignore"` render the plain '
        "URL as Django does ([testing and development](../how-to/testing.md))."
    ),
}

# Defaults the code spells as None, in words.
STATIC_DEFAULT_WORDS: dict[str, str] = {
    "workers": "`None`: one per core",
    "state_dir": "`None`: `${state_dirname}` beside STATIC_ROOT",
    "s3": "`None`: build only",
    "cors": "`None`: no CORS rule",
    "cdn": "`None`: no CDN",
    "images": "`None`: no image variants",
    "dictionaries": "`None`: no deltas",
}

# --- STORAGES["staticfiles"]["OPTIONS"]["s3"] --------------------------------------------------

S3_KEYS: dict[str, str] = {
    "bucket_name": "The bucket.",
    "location": "The key prefix, e.g. `static`; `prune` needs one.",
    "endpoint_url": "An S3-compatible endpoint, e.g. `http://127.0.0.1:9000`.",
    "region_name": "The bucket's region; `None` uses botocore's configuration.",
    "workers": "Parallel uploads (and fetches, with the bucket as the build's cache).",
    "default_acl": (
        "A canned ACL (${canned_acls}) sent with every upload. `None` sends none, which is "
        "what buckets with ACLs disabled (the AWS default) require."
    ),
    "hashed_cache_control": "`Cache-Control` of hashed and prehashed names.",
    "unhashed_cache_control": "`Cache-Control` of unhashed names and of the manifest.",
    "variants": (
        "Where the `.br`/`.gz` variants live. "
        '`"static_root"`: in STATIC_ROOT only, served by nginx, WhiteNoise or ServeStatic, '
        "which pick one by `Accept-Encoding`; the bucket gets none, as S3 cannot pick. "
        '`"static_root_and_bucket"`: also uploaded as keys of their own, with '
        "`Content-Encoding` and the original's `Content-Type`, for a CDN that picks them; the "
        "bucket is then the build's cache: a build that lacks a content's variants (a fresh "
        "runner) fetches those earlier builds published, each used only when it decodes to "
        "exactly the content and was made with the same encoder "
        "([the bucket as the build cache](../how-to/ci.md#the-bucket-as-the-build-cache)). "
        '`"bucket"`: STATIC_ROOT is not served (app servers read from the bucket or a CDN): a '
        "content whose variants the bucket already has gets none in STATIC_ROOT, and the "
        "summary counts them as `left in the bucket`; contents the bucket lacks are compressed "
        "and published as usual. Image variants are files a page names, published whatever "
        "this says."
    ),
    "publish": (
        "`False`: `collectstatic` builds (reading the bucket as its cache, or its manifest) but "
        "never writes to the bucket: a pull request's build, with read-only credentials "
        "(`manage.py assetpipe runner-policy --read-only`)."
    ),
    "read_manifest_from_bucket": (
        "App servers read `staticfiles.json` from the bucket instead of STATIC_ROOT "
        "([many app servers](../how-to/app-servers.md))."
    ),
    "manifest_digest": (
        "With `read_manifest_from_bucket`: read this build's copy (a build id, as "
        "`collectstatic` and `sync` print it) instead of the live manifest."
    ),
    "multipart_threshold": (
        "Files from this size (bytes) up are uploaded in parts, read from disk one part at a time."
    ),
}

S3_DEFAULT_WORDS: dict[str, str] = {
    "bucket_name": "required",
    "region_name": "`None`: botocore's",
}

# --- STORAGES["staticfiles"]["OPTIONS"]["cors"] ------------------------------------------------

CORS_KEYS: dict[str, str] = {
    "origins": (
        '`["*"]` (any page may read the files), or the origins of the pages that use them, '
        'e.g. `["https://www.example.com"]`: scheme, host and port, no path; a host may hold '
        "one `*` (`https://*.example.com`)."
    ),
    "max_age": "Seconds a browser may cache a preflight's answer (`Access-Control-Max-Age`).",
}

# --- STORAGES["staticfiles"]["OPTIONS"]["dictionaries"] -----------------------------------------

DICTIONARY_KEYS: dict[str, str] = {
    "previous_builds": (
        "How many earlier builds' versions of a file its deltas are made against: a visitor "
        "who last came that many deploys ago still gets a delta."
    ),
}

# --- STORAGES["staticfiles"]["OPTIONS"]["images"] -----------------------------------------------

IMAGE_KEYS: dict[str, str] = {
    "formats": (
        "The variants to write, whatever the order given: AVIF first, the order browsers are "
        "offered them in."
    ),
    "quality": (
        'With `"floor": None`: the fixed lossy quality per format, 1 to 100; a format left out '
        "keeps its default (AVIF 55, WebP 80, PageSpeed's WebP quality)."
    ),
    "floor": (
        "Each lossy variant at the lowest quality (AVIF 20-83, WebP 37-100, by bisection) whose "
        "decoded result keeps this SSIM against the original, measured on luma; a variant that "
        'cannot is not written. `None`: the fixed `"quality"`.'
    ),
    "avif_speed": "libaom's speed, 0 (slowest, smallest) to 10; 8 is 3-4 times faster than 6.",
    "webp_method": "libwebp's effort, 0 (fastest) to 6.",
    "lossless": (
        "Glob patterns of static names always encoded lossless (WebP only, exact pixels); "
        "unnamed PNGs are classified photo (lossy) or graphic (lossless), GIFs lossless. `True`: "
        "every PNG and GIF still lossless; `False`: every image lossy."
    ),
    "lossy": (
        "Glob patterns of static names always encoded lossy (AVIF and WebP at the floor); "
        '`"lossless"` patterns win over these.'
    ),
    "min_saving": (
        "The fraction of the original's bytes a variant must save to be kept; otherwise the "
        "image has no variant of that format."
    ),
}

IMAGE_DEFAULT_WORDS: dict[str, str] = {}

# --- STORAGES[alias]["OPTIONS"] of TenantMediaStorage ------------------------------------------

# Every option assetpipe adds or gives its own default, and the django-storages options that
# matter most for private media; the others work as django-storages documents them.
MEDIA_OPTIONS: dict[str, str] = {
    "bucket_name": "The media bucket.",
    "location": "The base prefix; objects live under `<location>/<tenant>/`.",
    "tenant": (
        "The customer's id, fixed for the process (one deploy per customer): 1 to 63 letters, "
        "digits, `-` or `_`, starting with a letter or digit."
    ),
    "tenant_resolver": (
        "Instead of `tenant`: a callable, or the dotted path to one, returning the current "
        "tenant's id; called on every storage operation."
    ),
    "querystring_auth": "Hand out signed URLs; `False` makes `url()` unsigned (`assetpipe.W002`).",
    "querystring_expire": "Seconds a signed URL stays valid (SigV4: at most 7 days).",
    "signature_version": (
        'How URLs and requests are signed: `"s3v4"` unless `AWS_S3_SIGNATURE_VERSION` says '
        "otherwise."
    ),
    "file_overwrite": (
        "`False`: saving a name that exists stores the new file under another name instead of "
        "replacing the old one."
    ),
    "default_acl": (
        "`None`: no ACL is sent and the bucket's settings decide; a public ACL is `assetpipe.W001`."
    ),
    "custom_domain": (
        "A CDN domain for URLs; with signed URLs it needs `cloudfront_key_id` and `cloudfront_key`."
    ),
    "cloudfront_key_id": "The CloudFront key pair's id that signs custom-domain URLs.",
    "cloudfront_key": "The CloudFront key pair's private key.",
    "endpoint_url": "An S3-compatible endpoint.",
    "region_name": "The bucket's region.",
}

MEDIA_DEFAULT_WORDS: dict[str, str] = {
    "bucket_name": "required",
    "tenant": "one of `tenant`, `tenant_resolver`",
    "tenant_resolver": "one of `tenant`, `tenant_resolver`",
    "endpoint_url": "`None`: botocore's",
    "region_name": "`None`: botocore's",
}

# --- manage.py assetpipe <subcommand> -----------------------------------------------------------

# Where each subcommand is explained at length.
SUBCOMMAND_GUIDES: dict[str, str] = {
    "sync": "[Publish to S3](../how-to/s3.md#deploy-steps-sync-status-prune)",
    "prune": "[Publish to S3](../how-to/s3.md#deploy-steps-sync-status-prune)",
    "status": "[Publish to S3](../how-to/s3.md#deploy-steps-sync-status-prune)",
    "rollback": "[Many app servers and rollbacks](../how-to/app-servers.md#rolling-back)",
    "nginx": "[Serve with nginx](../how-to/nginx.md)",
    "cors": "[Serve from S3: read access and CORS](../serving-from-s3.md)",
    "bucket-policy": "[Serve from S3: read access and CORS](../serving-from-s3.md)",
    "edge": (
        "[CloudFront](../cdn-cloudfront.md), [Cloudflare](../cdn-cloudflare.md), "
        "[Serve from S3 and a CDN](../how-to/cdn.md)"
    ),
    "iam-policy": (
        "[Tenant media]"
        "(../how-to/media.md#the-classic-setup-customer-per-deploy-an-iam-user-per-customer)"
    ),
    "upload-media": "[Tenant media](../how-to/media.md#upload-media)",
    "runner-policy": "[CI and containers](../how-to/ci.md#who-may-write-the-cache)",
}

# --- system checks ------------------------------------------------------------------------------

CHECKS: dict[str, str] = {
    "assetpipe.E001": (
        'Static publishing (`STORAGES["staticfiles"]["OPTIONS"]["s3"]`) and another S3 storage '
        "(a TenantMediaStorage, or django-storages' `S3Storage` under any alias) use the same "
        "bucket and their prefixes overlap, e.g. static files at the bucket's root, or inside "
        "the media location (where a tenant of that name would keep its files)."
    ),
    "assetpipe.E002": (
        "A media storage's tenant is missing or invalid, both `tenant` and `tenant_resolver` "
        "are set, or the resolver cannot be imported."
    ),
    "assetpipe.E003": (
        "A media storage cannot be created from its `OPTIONS` (no `bucket_name`, an unknown "
        "option, an invalid `location`, `custom_domain` with signed URLs but no CloudFront "
        "keys), or the `media` extra is not installed."
    ),
    "assetpipe.E004": (
        "An `AssetPipeStorage` option is unknown, of the wrong type or out of range, or "
        "`state_dir` is inside STATIC_ROOT; one error per problem."
    ),
    "assetpipe.W001": (
        "Media objects would be uploaded with a public ACL (`public-read`, `public-read-write`, "
        "`authenticated-read`)."
    ),
    "assetpipe.W002": (
        "Media URLs are not signed (`querystring_auth=False`), so they only work for public "
        "objects."
    ),
    "assetpipe.W003": (
        'The staticfiles storage is an `AssetPipeStorage` and `"assetpipe"` is not listed '
        'before `"django.contrib.staticfiles"` in `INSTALLED_APPS`, so `collectstatic` is '
        "Django's command rather than assetpipe's."
    ),
    "assetpipe.W004": (
        "`STATIC_URL` is on another origin (`https://…`, `//host/…`) and the `AssetPipeStorage` "
        "has no `cors` option, so browsers block its web fonts and, with `integrity`, every "
        "stylesheet and script; not with WhiteNoise's or ServeStatic's middleware, which send "
        "`Access-Control-Allow-Origin: *`, unless `STATIC_URL` is the bucket's own host."
    ),
}

# The fix, for checks whose code gives no hint.
CHECK_FIXES: dict[str, str] = {
    "assetpipe.E003": (
        "The message names the problem; see [TenantMediaStorage's options]"
        "(options.md#tenantmediastorage)."
    ),
    "assetpipe.E004": (
        "The message names the option, what was expected and, for a misspelt name, the option "
        "meant; see [AssetPipeStorage's options](options.md#assetpipestorage)."
    ),
    "assetpipe.W004": (
        'Give the storage the `cors` option (`{"origins": ["*"]}` for public static files), then '
        "`manage.py assetpipe cors --apply`; see "
        "[Serve from S3: read access and CORS](../serving-from-s3.md)."
    ),
}

# --- staticfiles.json ---------------------------------------------------------------------------

# key -> (when it is written, what it holds)
MANIFEST_KEYS: dict[str, tuple[str, str]] = {
    "paths": (
        "always (Django's)",
        "Each collected name (`app/css/site.css`) and the name it is served as "
        "(`app/css/site.e4da3b7fbbce.css`); a prehashed file maps to itself.",
    ),
    "version": ("always (Django's)", "The manifest format version Django writes."),
    "hash": (
        "always (Django's)",
        "A hash of the paths, which Django exposes as `manifest_hash`.",
    ),
    "prehashed": (
        "when the build has bundler output that keeps its name",
        "The sorted names a bundler named by content ([bundlers](../how-to/bundlers.md)): "
        "immutable for S3, nginx, WhiteNoise and `prune`.",
    ),
    "integrity": (
        "with the `integrity` option",
        "Every file served from STATIC_ROOT, hashed copies and originals, mapped to its "
        "`sha384-…` Subresource Integrity value.",
    ),
    "modules": (
        "with the `integrity` option",
        "Every module in the import map and every JS module with imports, by manifest key: "
        "`mapped` (whether `{% importmap %}` maps it), `imports` (static imports) and "
        "`dynamic` (`import()` targets).",
    ),
    "dictionaries": (
        "with the `dictionaries` option",
        "Each content-named CSS/JS file that is a dictionary, by its hashed name: `match` (the "
        "`Use-As-Dictionary` pattern, relative to the file's URL), `dest` (`script` or "
        "`style`) and `deltas`, the base64 SHA-256 of each earlier version a `.dcz` delta was "
        "written against, as `Available-Dictionary` names it.",
    ),
    "images": (
        "with the `images` option",
        "Each raster image by manifest key: `width` and `height` (after EXIF orientation) and "
        "`formats`, the variants kept (smaller than the original), best first; "
        "`{% static_picture %}` reads it. Unreadable and animated images are not listed.",
    ),
}
