"""`python -m ops upload-web` against moto's S3, CloudFront and CloudFormation, real static/."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from ops import upload_web
from ops.stage import ROOT

STATIC = ROOT / "static"
API_URL = "https://abc123defg.execute-api.eu-west-1.amazonaws.com/api/"
API_ORIGIN = "https://abc123defg.execute-api.eu-west-1.amazonaws.com"
LIVE_URL = "https://abcdefghijklmnopqrstuvwxyz012345.lambda-url.eu-west-1.on.aws/"
LIVE_ORIGIN = "https://abcdefghijklmnopqrstuvwxyz012345.lambda-url.eu-west-1.on.aws"
EXPECTED_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".txt": "text/plain; charset=utf-8",  # static/vendor/'s licence beside its code
}


def make_bucket(aws: Any, name: str = "chalkboard-dev-web") -> str:
    aws.client("s3").create_bucket(Bucket=name)
    return name


def objects(aws: Any, bucket: str) -> dict[str, dict[str, Any]]:
    s3 = aws.client("s3")
    found = {}
    for item in s3.list_objects_v2(Bucket=bucket).get("Contents", []):
        answer = s3.get_object(Bucket=bucket, Key=item["Key"])
        found[item["Key"]] = {**answer, "Body": answer["Body"].read()}
    return found


def make_distribution(aws: Any, bucket: str) -> str:
    answer = aws.client("cloudfront").create_distribution(DistributionConfig={
        "CallerReference": "test", "Comment": "", "Enabled": True,
        "Origins": {"Quantity": 1, "Items": [{
            "Id": "web-bucket", "DomainName": f"{bucket}.s3.us-east-1.amazonaws.com",
            "S3OriginConfig": {"OriginAccessIdentity": ""},
        }]},
        "DefaultCacheBehavior": {"TargetOriginId": "web-bucket",
                                 "ViewerProtocolPolicy": "redirect-to-https",
                                 "CachePolicyId": "658327ea-f89d-4fab-a63d-7e88639e58f6"},
    })
    return answer["Distribution"]["Id"]


def static_files() -> list[Path]:
    return sorted(p for p in STATIC.rglob("*") if p.is_file()
                  and not any(part.startswith(".") for part in p.relative_to(STATIC).parts))


def test_every_file_of_the_web_app_is_uploaded_with_its_content_type(aws: Any) -> None:
    bucket = make_bucket(aws)
    assert upload_web.main(["--api-url", API_URL, "--bucket", bucket], session=aws) == 0
    uploaded = objects(aws, bucket)
    files = static_files()
    assert {"index.html", "config.js"} <= {p.name for p in files}
    assert set(uploaded) == {p.relative_to(STATIC).as_posix() for p in files}
    for path in files:
        key = path.relative_to(STATIC).as_posix()
        assert uploaded[key]["ContentType"] == EXPECTED_TYPES[path.suffix], key
        if key not in {"config.js", "index.html"}:
            assert uploaded[key]["Body"] == path.read_bytes(), key


def test_config_js_names_the_deployed_api_and_nothing_else_changes(aws: Any) -> None:
    bucket = make_bucket(aws)
    assert upload_web.main(["--api-url", API_URL, "--bucket", bucket], session=aws) == 0
    config_js = objects(aws, bucket)["config.js"]["Body"].decode()
    original = (STATIC / "config.js").read_text()
    assert 'apiBaseUrl: "http://localhost:8000"' in original
    assert config_js == original.replace('"http://localhost:8000"', f'"{API_URL.rstrip("/")}"')
    assert "localhost" not in config_js


def test_index_html_lets_the_page_connect_to_the_api_origin_only(aws: Any) -> None:
    bucket = make_bucket(aws)
    assert upload_web.main(["--api-url", API_URL, "--bucket", bucket], session=aws) == 0
    page = objects(aws, bucket)["index.html"]["Body"].decode()
    (policy,) = re.findall(r'<meta http-equiv="Content-Security-Policy" content="([^"]*)"', page)
    directives = {d.split()[0]: d.split()[1:] for d in policy.split("; ")}
    assert directives["connect-src"] == [API_ORIGIN]
    assert "localhost" not in page
    original = (STATIC / "index.html").read_text()
    assert page == original.replace("connect-src http://localhost:8000",
                                    f"connect-src {API_ORIGIN}")


def test_page_and_config_are_never_cached_and_the_rest_is_revalidated(aws: Any) -> None:
    bucket = make_bucket(aws)
    assert upload_web.main(["--api-url", API_URL, "--bucket", bucket], session=aws) == 0
    for key, item in objects(aws, bucket).items():
        if key in {"index.html", "config.js"}:
            assert item["CacheControl"] == "no-cache", key
        else:
            # Browsers ask again every time (names are not hashed); CloudFront keeps it
            # until the upload's invalidation.
            assert "max-age=0" in item["CacheControl"] and "must-revalidate" in item["CacheControl"]


def test_index_html_is_uploaded_last(aws: Any, tmp_path: Path) -> None:
    files = upload_web.web_files(STATIC, API_URL)
    assert [f.key for f in files][-2:] == ["config.js", "index.html"]


def test_upload_invalidates_cloudfronts_copies(aws: Any) -> None:
    bucket = make_bucket(aws)
    distribution = make_distribution(aws, bucket)
    assert upload_web.main(["--api-url", API_URL, "--bucket", bucket,
                            "--distribution-id", distribution], session=aws) == 0
    cloudfront = aws.client("cloudfront")
    (summary,) = cloudfront.list_invalidations(DistributionId=distribution)[
        "InvalidationList"]["Items"]
    invalidation = cloudfront.get_invalidation(DistributionId=distribution, Id=summary["Id"])
    paths = invalidation["Invalidation"]["InvalidationBatch"]["Paths"]["Items"]
    assert paths == ["/*"]  # covers /, /index.html and /config.js


def test_stack_outputs_give_bucket_distribution_api_and_the_url_to_open(
    aws: Any, capsys: pytest.CaptureFixture,
) -> None:
    bucket = make_bucket(aws)
    distribution = make_distribution(aws, bucket)
    web_url = "https://d111111abcdef8.cloudfront.net/"
    aws.client("cloudformation").create_stack(StackName="chalkboard-dev", TemplateBody=json.dumps({
        "Resources": {"Marker": {"Type": "AWS::S3::Bucket"}},
        "Outputs": {"EndpointURL": {"Value": API_URL}, "WebBucketName": {"Value": bucket},
                    "WebDistributionId": {"Value": distribution}, "WebUrl": {"Value": web_url}},
    }))
    assert upload_web.main(["--stack", "chalkboard-dev"], session=aws) == 0
    uploaded = objects(aws, bucket)
    assert API_URL.rstrip("/") in uploaded["config.js"]["Body"].decode()
    assert aws.client("cloudfront").list_invalidations(DistributionId=distribution)[
        "InvalidationList"]["Quantity"] == 1
    assert f"open {web_url}" in capsys.readouterr().out


def test_the_stacks_live_url_reaches_config_js_and_the_pages_csp(aws: Any) -> None:
    """Issue 26: the one stack's LiveUrl output (GET /live's function URL) becomes config.js's
    liveUrl, and its origin joins the API's as the only connect-src."""
    bucket = make_bucket(aws)
    aws.client("cloudformation").create_stack(StackName="chalkboard-dev", TemplateBody=json.dumps({
        "Resources": {"Marker": {"Type": "AWS::S3::Bucket"}},
        "Outputs": {"EndpointURL": {"Value": API_URL}, "WebBucketName": {"Value": bucket},
                    "LiveUrl": {"Value": LIVE_URL}},
    }))
    assert upload_web.main(["--stack", "chalkboard-dev"], session=aws) == 0
    uploaded = objects(aws, bucket)
    original = (STATIC / "config.js").read_text()
    assert uploaded["config.js"]["Body"].decode() == original.replace(
        '"http://localhost:8000"', f'"{API_URL.rstrip("/")}", liveUrl: "{LIVE_URL}"')
    page = uploaded["index.html"]["Body"].decode()
    (policy,) = re.findall(r'<meta http-equiv="Content-Security-Policy" content="([^"]*)"', page)
    directives = {d.split()[0]: d.split()[1:] for d in policy.split("; ")}
    assert directives["connect-src"] == [API_ORIGIN, LIVE_ORIGIN]
    assert page == (STATIC / "index.html").read_text().replace(
        "connect-src http://localhost:8000", f"connect-src {API_ORIGIN} {LIVE_ORIGIN}")


@pytest.mark.parametrize("url", ["http://abc.lambda-url.eu-west-1.on.aws/",
                                 "https://abc.lambda-url.eu-west-1.on.aws/?x=1",
                                 'https://abc.lambda-url.eu-west-1.on.aws/"'])
def test_a_live_url_that_is_not_plain_https_is_refused(aws: Any, url: str) -> None:
    bucket = make_bucket(aws)
    assert upload_web.main(["--api-url", API_URL, "--live-url", url, "--bucket", bucket],
                           session=aws) == 1
    assert objects(aws, bucket) == {}


def test_way_2_takes_the_api_url_from_chalices_deploy_record(tmp_path: Path) -> None:
    record = tmp_path / "dev.json"
    record.write_text(json.dumps({"schema_version": "2.0", "backend": "api", "resources": [
        {"name": "api_handler", "resource_type": "lambda_function", "lambda_arn": "arn:x"},
        {"name": "rest_api", "resource_type": "rest_api", "rest_api_id": "abc123defg",
         "rest_api_url": API_URL},
    ]}))
    assert upload_web.deployed_api_url(record) == API_URL
    assert upload_web.deployed_api_url(tmp_path / "missing.json") is None


def copy_static(tmp_path: Path) -> Path:
    source = tmp_path / "static"
    shutil.copytree(STATIC, source)
    return source


def test_an_unknown_file_type_stops_the_upload_before_anything_is_written(
    aws: Any, tmp_path: Path, capsys: pytest.CaptureFixture,
) -> None:
    source = copy_static(tmp_path)
    (source / "notes.xyz").write_text("?")
    bucket = make_bucket(aws)
    assert upload_web.main(["--api-url", API_URL, "--bucket", bucket, "--source", str(source)],
                           session=aws) == 1
    assert "notes.xyz" in capsys.readouterr().err
    assert objects(aws, bucket) == {}


@pytest.mark.parametrize("url", [
    "http://abc.execute-api.eu-west-1.amazonaws.com/api/",
    "https://abc.example/api?x=1",
    'https://abc.example/"onload="',
    "abc.execute-api.eu-west-1.amazonaws.com",
])
def test_an_api_url_that_is_not_plain_https_is_refused(aws: Any, url: str) -> None:
    bucket = make_bucket(aws)
    assert upload_web.main(["--api-url", url, "--bucket", bucket], session=aws) == 1
    assert objects(aws, bucket) == {}


def test_files_that_cannot_be_rewritten_are_refused(tmp_path: Path) -> None:
    source = copy_static(tmp_path)
    (source / "config.js").write_text("export const config = {};\n")
    with pytest.raises(upload_web.UploadError, match="apiBaseUrl"):
        upload_web.web_files(source, API_URL)
    source = copy_static(tmp_path / "again")
    page = (source / "index.html").read_text()
    (source / "index.html").write_text(re.sub(r"connect-src [^;]*; ", "", page))
    with pytest.raises(upload_web.UploadError, match="connect-src"):
        upload_web.web_files(source, API_URL)


def test_delete_removes_only_objects_that_left_the_app(aws: Any) -> None:
    bucket = make_bucket(aws)
    aws.client("s3").put_object(Bucket=bucket, Key="old.js", Body=b"")
    assert upload_web.main(["--api-url", API_URL, "--bucket", bucket], session=aws) == 0
    assert "old.js" in objects(aws, bucket)
    assert upload_web.main(["--api-url", API_URL, "--bucket", bucket, "--delete"],
                           session=aws) == 0
    remaining = objects(aws, bucket)
    assert "old.js" not in remaining
    assert {"index.html", "config.js"} <= set(remaining)
