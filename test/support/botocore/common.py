"""Shared bits for the botocore helpers: read the JSON input from stdin, build the request, freeze time."""
import datetime
import json
import sys

import botocore.auth
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials


def read_input():
    """The JSON document on stdin."""
    return json.load(sys.stdin)


def freeze_time(amz_date):
    """Make SigV4Auth.add_auth sign at amz_date (YYYYMMDDTHHMMSSZ) instead of utcnow()."""
    fixed = datetime.datetime.strptime(amz_date, '%Y%m%dT%H%M%SZ')

    class FrozenDatetime(datetime.datetime):
        @classmethod
        def utcnow(cls):
            return fixed

    botocore.auth.datetime = type('datetime_module', (), {'datetime': FrozenDatetime})


def sign(case, headers):
    """Sign case's request with botocore; returns the AWSRequest with its signed headers."""
    credentials = Credentials(case['accessKeyId'], case['secretAccessKey'], case.get('sessionToken'))
    request = AWSRequest(method=case['method'], url=case['url'], data=case.get('body') or None, headers=headers)
    SigV4Auth(credentials, case.get('service', 'execute-api'), case['region']).add_auth(request)
    return request


def write(result):
    json.dump(result, sys.stdout)
    sys.stdout.write('\n')
