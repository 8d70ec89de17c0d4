"""Upload the web app (static/) to a stage's bucket, pointed at the deployed API.

    python -m ops upload-web --stack chalkboard-dev                  # one stack: from outputs
    python -m ops upload-web --stack chalkboard-web-dev --stage dev  # `chalice deploy`
    python -m ops upload-web --api-url URL --bucket NAME [--distribution-id ID]

What is uploaded differs from static/ in two places, both naming the API:
``config.js`` gets the API's URL, and index.html's Content-Security-Policy
``connect-src`` gets the API's origin (a stale meta CSP would block every call).
With a live URL (the one stack's ``LiveUrl`` output, or ``--live-url``: GET /live on
a Lambda function URL, issue 26) config.js also gets ``liveUrl`` and ``connect-src``
its origin too; without one the web app asks the API's GET /live.

Every file gets an exact Content-Type (an unknown extension stops the upload
rather than guessing). ``index.html`` and ``config.js`` are ``no-cache`` and
CloudFront never caches them (ops/render_infra.py); the other files are revalidated
by browsers on every load and cached by CloudFront until the next upload, which
ends with an invalidation of ``/*``. index.html goes last, so a new page never
refers to a file that is not there yet.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from ops.stage import ROOT

CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
    ".webmanifest": "application/manifest+json",
    ".map": "application/json",
    ".txt": "text/plain; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".ico": "image/vnd.microsoft.icon",
    ".woff2": "font/woff2",
    ".woff": "font/woff",
}
# The browser must ask every time for these (they change with each deploy and
# name everything else); CloudFront does not cache them either.
NO_CACHE = "no-cache"
NEVER_CACHED = frozenset({"index.html", "config.js"})
# Everything else: browsers revalidate (names are not hashed, so a long browser
# cache could mix versions); CloudFront keeps it until the upload's invalidation.
REVALIDATE = "public, max-age=0, must-revalidate, s-maxage=31536000"

_ORIGIN = re.compile(r"https://[A-Za-z0-9.-]+(:[0-9]{1,5})?")  # fullmatch: "$" passes "\n"
_PATH = re.compile(r"[A-Za-z0-9/_.-]*")
_API_BASE_URL = re.compile(r'apiBaseUrl:\s*"[^"\\]*"')
_META_CSP = re.compile(
    r'(<meta\s+http-equiv="Content-Security-Policy"\s+content=")([^"]*)(")', re.IGNORECASE
)


class UploadError(Exception):
    """A refusal the operator can act on (printed without a traceback)."""


@dataclass(frozen=True)
class WebFile:
    key: str
    body: bytes
    content_type: str
    cache_control: str


def api_origin(api_url: str) -> str:
    """https://host[:port] of the API URL; anything else is refused."""
    parts = urlsplit(api_url)
    origin = f"{parts.scheme}://{parts.netloc}"
    if (parts.scheme != "https" or not _ORIGIN.fullmatch(origin) or not _PATH.fullmatch(parts.path)
            or parts.query or parts.fragment):
        raise UploadError(f"the API URL must look like https://host/path, not {api_url!r}")
    return origin


def api_base_url(api_url: str) -> str:
    api_origin(api_url)
    return api_url.rstrip("/")


def rewrite_config_js(text: str, api_url: str, live_url: str | None = None) -> str:
    """config.js with apiBaseUrl set to the deployed API (JSON-quoted, so any URL is safe),
    and liveUrl after it when GET /live has a function URL of its own."""
    if len(_API_BASE_URL.findall(text)) != 1:
        raise UploadError('config.js must hold exactly one apiBaseUrl: "..." to rewrite')
    if "liveUrl" in text:
        raise UploadError("config.js must not name a liveUrl: the upload writes it")
    entry = f"apiBaseUrl: {json.dumps(api_base_url(api_url))}"
    if live_url is not None:
        api_origin(live_url)  # the same refusals as for the API's URL
        entry += f", liveUrl: {json.dumps(live_url)}"
    return _API_BASE_URL.sub(lambda _: entry, text)


def rewrite_csp(policy: str, origin: str) -> str:
    directives = [part.strip() for part in policy.split(";") if part.strip()]
    names = [directive.split()[0].lower() for directive in directives]
    if names.count("connect-src") != 1:
        raise UploadError("index.html's Content-Security-Policy must have one connect-src")
    return "; ".join(
        f"connect-src {origin}" if name == "connect-src" else directive
        for name, directive in zip(names, directives, strict=True)
    )


def rewrite_index_html(text: str, api_url: str, live_url: str | None = None) -> str:
    """index.html whose meta CSP lets the page connect to the deployed API (and live URL) only."""
    matches = _META_CSP.findall(text)
    if len(matches) != 1:
        raise UploadError("index.html must have one <meta http-equiv=\"Content-Security-Policy\">")
    origin = api_origin(api_url)
    if live_url is not None:
        origin = f"{origin} {api_origin(live_url)}"

    def replace(match: re.Match[str]) -> str:
        # The origins are letters, digits, '.', '-', ':' and '/': nothing to escape.
        return match.group(1) + rewrite_csp(match.group(2), origin) + match.group(3)

    return _META_CSP.sub(replace, text)


def web_files(source: Path, api_url: str, live_url: str | None = None) -> list[WebFile]:
    """Every file to upload, rewritten where needed, index.html last."""
    files = []
    for path in sorted(source.rglob("*")):
        relative = path.relative_to(source)
        if not path.is_file() or any(part.startswith(".") for part in relative.parts):
            continue
        key = relative.as_posix()
        content_type = CONTENT_TYPES.get(path.suffix.lower())
        if content_type is None:
            raise UploadError(f"{key}: no Content-Type known for {path.suffix or 'no extension'!r}"
                              f"; add it to CONTENT_TYPES in ops/upload_web.py")
        body = path.read_bytes()
        if key == "config.js":
            body = rewrite_config_js(body.decode("utf-8"), api_url, live_url).encode("utf-8")
        elif key == "index.html":
            body = rewrite_index_html(body.decode("utf-8"), api_url, live_url).encode("utf-8")
        cache = NO_CACHE if key in NEVER_CACHED else REVALIDATE
        files.append(WebFile(key, body, content_type, cache))
    for required in ("index.html", "config.js"):
        if required not in {f.key for f in files}:
            raise UploadError(f"{source} has no {required}")
    order = {"config.js": 1, "index.html": 2}
    return sorted(files, key=lambda f: (order.get(f.key, 0), f.key))


def upload(s3: Any, bucket: str, files: list[WebFile], *, delete: bool) -> list[str]:
    """Put every file; with ``delete``, remove objects that are no longer in the app."""
    for web_file in files:
        s3.put_object(
            Bucket=bucket,
            Key=web_file.key,
            Body=web_file.body,
            ContentType=web_file.content_type,
            CacheControl=web_file.cache_control,
        )
        print(f"s3://{bucket}/{web_file.key}  {web_file.content_type}  {web_file.cache_control}")
    removed = []
    if delete:
        wanted = {web_file.key for web_file in files}
        for key in _bucket_keys(s3, bucket):
            if key not in wanted:
                s3.delete_object(Bucket=bucket, Key=key)
                removed.append(key)
                print(f"s3://{bucket}/{key}  removed")
    return removed


def _bucket_keys(s3: Any, bucket: str) -> Iterator[str]:
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        for item in page.get("Contents", []):
            yield item["Key"]


def invalidate(cloudfront: Any, distribution_id: str) -> str:
    """Drop CloudFront's cached copies (one path, '/*', counts as one invalidation)."""
    answer = cloudfront.create_invalidation(
        DistributionId=distribution_id,
        InvalidationBatch={
            "Paths": {"Quantity": 1, "Items": ["/*"]},
            "CallerReference": f"chalkboard-upload-{uuid.uuid4()}",
        },
    )
    return answer["Invalidation"]["Id"]


def deployed_api_url(record: Path) -> str | None:
    """The API URL in a `chalice deploy` record (what `chalice url` prints)."""
    if not record.exists():
        return None
    resources = json.loads(record.read_text()).get("resources", [])
    return next((r["rest_api_url"] for r in resources if r.get("name") == "rest_api"), None)


def stack_outputs(cloudformation: Any, stack: str) -> dict[str, str]:
    answer = cloudformation.describe_stacks(StackName=stack)["Stacks"][0]
    return {output["OutputKey"]: output["OutputValue"] for output in answer.get("Outputs", [])}


def main(argv: list[str] | None = None, *, session: Any = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ops upload-web",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--stack", help="CloudFormation stack whose outputs give the bucket, "
                        "distribution and (one stack) the API URL")
    parser.add_argument("--api-url", help="the deployed API's URL, e.g. "
                        "https://abc123.execute-api.eu-west-1.amazonaws.com/api/")
    parser.add_argument("--live-url", help="GET /live's Lambda function URL (default: the "
                        "stack's LiveUrl output; none: the web app asks the API's GET /live)")
    parser.add_argument("--bucket", help="the web bucket (default: the stack's WebBucketName)")
    parser.add_argument("--distribution-id",
                        help="CloudFront distribution to invalidate (default: the stack's)")
    parser.add_argument("--source", type=Path, default=ROOT / "static",
                        help="the web app folder (default: static/)")
    parser.add_argument("--delete", action="store_true",
                        help="also remove objects in the bucket that are not in the app")
    parser.add_argument("--stage", help="`chalice deploy`: take the API URL from this stage's "
                        "`chalice deploy` record (.chalice/deployed/<stage>.json)")
    args = parser.parse_args(argv)

    try:
        if session is None:
            import boto3

            session = boto3.session.Session()
        outputs = stack_outputs(session.client("cloudformation"), args.stack) if args.stack else {}
        api_url = (args.api_url or outputs.get("EndpointURL")
                   or (deployed_api_url(ROOT / ".chalice" / "deployed" / f"{args.stage}.json")
                       if args.stage else None))
        live_url = args.live_url or outputs.get("LiveUrl")
        bucket = args.bucket or outputs.get("WebBucketName")
        distribution_id = args.distribution_id or outputs.get("WebDistributionId")
        if not api_url:
            raise UploadError("give --api-url, --stage after `chalice deploy`, or a --stack "
                              "with an EndpointURL output")
        if not bucket:
            raise UploadError("give --bucket or a --stack with a WebBucketName output")
        files = web_files(args.source, api_url, live_url)
        upload(session.client("s3"), bucket, files, delete=args.delete)
        if distribution_id:
            invalidation = invalidate(session.client("cloudfront"), distribution_id)
            print(f"CloudFront invalidation {invalidation} of /* started (about a minute)")
        else:
            print("no distribution given: nothing invalidated", file=sys.stderr)
        if outputs.get("WebUrl"):
            print(f"open {outputs['WebUrl']}")
    except UploadError as error:
        print(f"upload-web: {error}", file=sys.stderr)
        return 1
    return 0

