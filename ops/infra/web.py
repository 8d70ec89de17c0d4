"""The web app: a private S3 bucket behind CloudFront, its security headers and domain."""

from __future__ import annotations

from typing import Any

from ops.infra.common import (
    SUB,
    ref,
    sub,
)

# AWS managed CloudFront cache policies (the same IDs in every account).
CACHING_OPTIMIZED = "658327ea-f89d-4fab-a63d-7e88639e58f6"


CACHING_DISABLED = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"


# CloudFront's hosted zone for alias records (the same in every account).
CLOUDFRONT_HOSTED_ZONE = "Z2FDTNDATAQYW2"


# Paths that must never be stale: the page and the file naming the API.
NEVER_CACHED = ("/index.html", "/config.js")


def content_security_policy(api_origin: str, live_origin: str | None = None) -> str:
    """The web app's CSP as an HTTP header: the page's own meta CSP plus frame-ancestors.

    ``api_origin`` may be a ``${...}`` reference for Fn::Sub. With ``live_origin``
    (GET /live's function URL, issue 26) they are the only ``connect-src``: the page
    may talk to the API and the live URL and nowhere else.
    """
    connect = api_origin if live_origin is None else f"{api_origin} {live_origin}"
    return "; ".join([
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self'",
        f"connect-src {connect}",
        "base-uri 'none'",
        "form-action 'none'",
        "object-src 'none'",
        "frame-ancestors 'none'",
        "require-trusted-types-for 'script'",
        "trusted-types 'none'",
    ])


def web_origin(*, quoted: bool = False) -> dict[str, Any]:
    """The one stack's web origin: https://<WebDomainName> if set, else the WebOrigin parameter."""
    q = "'" if quoted else ""
    return {"Fn::If": ["HasWebDomain", sub(f"{q}https://${{WebDomainName}}{q}"),
                       sub(f"{q}${{WebOrigin}}{q}")]}


def web_resources(stage: str, api_origin: Any, live_origin: Any = None) -> dict[str, Any]:
    """Private S3 bucket + Origin Access Control + CloudFront (HTTPS only) + security headers,
    and Route 53 alias records for a custom domain when its hosted zone is given.

    ``api_origin`` is the API's origin (a parameter, or the stack's RestAPI or
    custom domain): the CSP's ``connect-src``, with ``live_origin`` (the one stack's
    GET /live function URL, issue 26) when given.
    """
    csp_values = {"ApiOriginValue": api_origin}
    if live_origin is not None:
        csp_values["LiveOriginValue"] = live_origin
    behaviour = {
        "TargetOriginId": "web-bucket",
        "ViewerProtocolPolicy": "redirect-to-https",
        "Compress": True,
        "AllowedMethods": ["GET", "HEAD"],
        "CachedMethods": ["GET", "HEAD"],
        "CachePolicyId": CACHING_OPTIMIZED,
        "ResponseHeadersPolicyId": ref("WebHeadersPolicy"),
    }
    return {
        "WebBucket": {
            "Type": "AWS::S3::Bucket",
            "Properties": {
                "BucketEncryption": {
                    "ServerSideEncryptionConfiguration": [
                        {"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}
                    ]
                },
                "PublicAccessBlockConfiguration": {
                    "BlockPublicAcls": True,
                    "BlockPublicPolicy": True,
                    "IgnorePublicAcls": True,
                    "RestrictPublicBuckets": True,
                },
                "OwnershipControls": {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]},
                # A bad upload is rolled back by restoring the previous versions.
                "VersioningConfiguration": {"Status": "Enabled"},
                "LifecycleConfiguration": {"Rules": [{
                    "Id": "expire-replaced-versions",
                    "Status": "Enabled",
                    "NoncurrentVersionExpiration": {"NoncurrentDays": NONCURRENT_DAYS},
                    "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1},
                }]},
                "Tags": [{"Key": "chalkboard-stage", "Value": stage}],
            },
        },
        **web_log_bucket(stage),
        "WebBucketPolicy": {
            "Type": "AWS::S3::BucketPolicy",
            "Properties": {
                "Bucket": ref("WebBucket"),
                "PolicyDocument": {
                    "Version": "2012-10-17",
                    "Statement": [deny_plain_http("WebBucket"), {
                        "Sid": "CloudFrontReadsThroughOriginAccessControl",
                        "Effect": "Allow",
                        "Principal": {"Service": "cloudfront.amazonaws.com"},
                        "Action": "s3:GetObject",
                        "Resource": sub("${WebBucket.Arn}/*"),
                        "Condition": {"StringEquals": {"AWS:SourceArn": sub(
                            "arn:${AWS::Partition}:cloudfront::${AWS::AccountId}"
                            ":distribution/${WebDistribution}"
                        )}},
                    }],
                },
            },
        },
        "WebOriginAccessControl": {
            "Type": "AWS::CloudFront::OriginAccessControl",
            "Properties": {
                "OriginAccessControlConfig": {
                    "Name": sub("${AWS::StackName}-web"),
                    "Description": f"chalkboard {stage}: CloudFront signs requests to the bucket",
                    "OriginAccessControlOriginType": "s3",
                    "SigningBehavior": "always",
                    "SigningProtocol": "sigv4",
                },
            },
        },
        "WebHeadersPolicy": {
            "Type": "AWS::CloudFront::ResponseHeadersPolicy",
            "Properties": {
                "ResponseHeadersPolicyConfig": {
                    "Name": sub("${AWS::StackName}-web-security-headers"),
                    "Comment": f"chalkboard {stage}: HSTS, nosniff, no framing, no referrer, CSP",
                    "SecurityHeadersConfig": {
                        "StrictTransportSecurity": {
                            "AccessControlMaxAgeSec": 63072000,
                            "IncludeSubdomains": True,
                            "Override": True,
                        },
                        "ContentTypeOptions": {"Override": True},
                        "FrameOptions": {"FrameOption": "DENY", "Override": True},
                        "ReferrerPolicy": {"ReferrerPolicy": "no-referrer", "Override": True},
                        "ContentSecurityPolicy": {
                            "ContentSecurityPolicy": {SUB: [
                                content_security_policy(
                                    "${ApiOriginValue}",
                                    None if live_origin is None else "${LiveOriginValue}"),
                                csp_values,
                            ]},
                            "Override": True,
                        },
                    },
                },
            },
        },
        "WebDistribution": {
            "Type": "AWS::CloudFront::Distribution",
            "Properties": {
                "DistributionConfig": {
                    "Enabled": True,
                    "Comment": f"chalkboard {stage} web app",
                    "DefaultRootObject": "index.html",
                    "HttpVersion": "http2and3",
                    "IPV6Enabled": True,
                    "PriceClass": "PriceClass_100",
                    # Standard access logs (free but for S3 storage), kept LOG_DAYS days.
                    "Logging": {
                        "Bucket": {"Fn::GetAtt": ["WebLogBucket", "DomainName"]},
                        "Prefix": "cloudfront/",
                        "IncludeCookies": False,
                    },
                    "Aliases": {"Fn::If": [
                        "HasWebDomain", [ref("WebDomainName")], ref("AWS::NoValue"),
                    ]},
                    "ViewerCertificate": {"Fn::If": [
                        "HasWebCertificate",
                        {
                            "AcmCertificateArn": ref("WebCertificateArn"),
                            "SslSupportMethod": "sni-only",
                            "MinimumProtocolVersion": "TLSv1.2_2021",
                        },
                        {"CloudFrontDefaultCertificate": True},
                    ]},
                    "Origins": [{
                        "Id": "web-bucket",
                        "DomainName": {"Fn::GetAtt": ["WebBucket", "RegionalDomainName"]},
                        "OriginAccessControlId": {"Fn::GetAtt": ["WebOriginAccessControl", "Id"]},
                        "S3OriginConfig": {"OriginAccessIdentity": ""},
                    }],
                    "DefaultCacheBehavior": behaviour,
                    "CacheBehaviors": [
                        {**behaviour, "PathPattern": path, "CachePolicyId": CACHING_DISABLED}
                        for path in NEVER_CACHED
                    ],
                },
            },
        },
        **{f"WebDnsRecord{kind}": {
            "Type": "AWS::Route53::RecordSet",
            "Condition": "HasWebDnsZone",
            "Properties": {
                "HostedZoneId": ref("HostedZoneId"),
                "Name": ref("WebDomainName"),
                "Type": kind,
                "AliasTarget": {
                    "DNSName": {"Fn::GetAtt": ["WebDistribution", "DomainName"]},
                    "HostedZoneId": CLOUDFRONT_HOSTED_ZONE,
                },
            },
        } for kind in ("A", "AAAA")},
    }


NONCURRENT_DAYS = 30  # how long a replaced web file can still be restored
LOG_DAYS = 90  # CloudFront access logs


def deny_plain_http(bucket: str) -> dict[str, Any]:
    """A bucket policy statement refusing every request not made over TLS."""
    return {
        "Sid": "DenyRequestsWithoutTls",
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": [{"Fn::GetAtt": [bucket, "Arn"]}, sub(f"${{{bucket}.Arn}}/*")],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }


def web_log_bucket(stage: str) -> dict[str, Any]:
    """CloudFront's standard logs: it writes with an ACL, so this bucket keeps ACLs on
    (BucketOwnerPreferred); private, encrypted, TLS only, expired after LOG_DAYS."""
    return {
        "WebLogBucket": {
            "Type": "AWS::S3::Bucket",
            "Properties": {
                "BucketEncryption": {"ServerSideEncryptionConfiguration": [
                    {"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]},
                "PublicAccessBlockConfiguration": {
                    "BlockPublicAcls": True, "BlockPublicPolicy": True,
                    "IgnorePublicAcls": True, "RestrictPublicBuckets": True,
                },
                "OwnershipControls": {"Rules": [{"ObjectOwnership": "BucketOwnerPreferred"}]},
                "LifecycleConfiguration": {"Rules": [{
                    "Id": "expire-logs", "Status": "Enabled", "ExpirationInDays": LOG_DAYS,
                }]},
                "Tags": [{"Key": "chalkboard-stage", "Value": stage}],
            },
        },
        "WebLogBucketPolicy": {
            "Type": "AWS::S3::BucketPolicy",
            "Properties": {
                "Bucket": ref("WebLogBucket"),
                "PolicyDocument": {"Version": "2012-10-17",
                                   "Statement": [deny_plain_http("WebLogBucket")]},
            },
        },
    }


