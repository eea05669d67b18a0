"""Builds a rotation setting in an AWS emulator (moto) through boto3, as a user would on AWS, for the doctor's tests.

usage: python3 doctor_aws_layout.py LAYOUT NAME [LOG]
  LAYOUT  nat            the function in two private subnets routed to an available NAT gateway, the database
                         (private RDS PostgreSQL) admitting the function's security group: a healthy setting
          endpoint-no-dns the same without a NAT route, and a secretsmanager interface endpoint with private DNS off
          endpoint       no NAT route, a secretsmanager interface endpoint with private DNS on: healthy
          no-vpc         the function outside any VPC, the database a private RDS instance
          no-egress      nat, but the function's security group lets out only 443 (not the database's port)
          no-ingress     nat, but the database's security group admits nothing
          no-route       the function's subnets routed nowhere: no NAT route, no endpoint
          aurora         nat, the database an Aurora PostgreSQL cluster whose writer endpoint is the secret's host
          pending-on-broken-current
                         nat, but the secret names a real database, DOCTOR_DB in the environment (JSON: host, port,
                         username, password, broken): the first version logs in, a second one with the broken password
                         holds AWSCURRENT and AWSPENDING, and AWSPREVIOUS the first (the field report's second case)
  NAME    a prefix for the resources' names
  LOG     optional: a file of rotation-function log text, one invocation set per blank-line-separated block, each block
          written as one stream into the function's log group (/aws/lambda/NAME-rotation) with times ending now;
          "<secret-arn>" in it becomes the secret's ARN
The endpoint and credentials come from the environment (AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID, ...). Prints one JSON object:
the secret's name and ARN, the function's ARN, the database's endpoint and the ids built.
"""

import io
import json
import os
import sys
import time
import urllib.request
import zipfile

import boto3

REGION = "us-east-1"


def client(service):
    return boto3.client(service, region_name=REGION)


def function_zip():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("lambda_function.py", "def lambda_handler(event, context):\n    return None\n")
    return buffer.getvalue()


def write_log(log_file, group, arn):
    """Each block of the file as one stream, lines a millisecond apart, the newest now (the doctor reads back from the last rotation)."""
    logs = client("logs")
    logs.create_log_group(logGroupName=group)
    with open(log_file, encoding="utf-8") as f:
        blocks = [b.strip("\n") for b in f.read().replace("<secret-arn>", arn).split("\n\n") if b.strip()]
    now = int(time.time() * 1000)
    lines = sum(len(b.split("\n")) for b in blocks)
    at = now - lines
    for i, block in enumerate(blocks):
        stream = f"2026/12/05/[$LATEST]{i:032x}"
        logs.create_log_stream(logGroupName=group, logStreamName=stream)
        events = []
        for line in block.split("\n"):
            events.append({"timestamp": at, "message": line})
            at += 1
        logs.put_log_events(logGroupName=group, logStreamName=stream, logEvents=events)


def main(layout, name, log_file=None):
    # moto can't run a function without docker; its docker-less Lambda answers invocations (the rotation's testSecret) with a stub.
    urllib.request.urlopen(urllib.request.Request(os.environ["AWS_ENDPOINT_URL"] + "/moto-api/config",
                                                  data=json.dumps({"lambda": {"use_docker": False}}).encode(), method="POST"))
    ec2, rds, iam, lam, sm = client("ec2"), client("rds"), client("iam"), client("lambda"), client("secretsmanager")
    built = {}

    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnet = lambda cidr, az: ec2.create_subnet(VpcId=vpc, CidrBlock=cidr, AvailabilityZone=az)["Subnet"]["SubnetId"]
    function_a, function_b = subnet("10.0.1.0/24", "us-east-1a"), subnet("10.0.2.0/24", "us-east-1b")
    database_a, database_b = subnet("10.0.3.0/24", "us-east-1a"), subnet("10.0.4.0/24", "us-east-1b")
    built.update(vpc=vpc, function_subnets=[function_a, function_b], database_subnets=[database_a, database_b])

    function_group = ec2.create_security_group(GroupName=f"{name}-rotation", Description="rotation function", VpcId=vpc)["GroupId"]
    database_group = ec2.create_security_group(GroupName=f"{name}-db", Description="PostgreSQL", VpcId=vpc)["GroupId"]
    if layout != "no-ingress":
        ec2.authorize_security_group_ingress(GroupId=database_group, IpPermissions=[
            {"IpProtocol": "tcp", "FromPort": 5432, "ToPort": 5432, "UserIdGroupPairs": [{"GroupId": function_group}]}])
    if layout == "no-egress":
        # A new group lets everything out; this one only reaches Secrets Manager.
        ec2.revoke_security_group_egress(GroupId=function_group, IpPermissions=[{"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
        ec2.authorize_security_group_egress(GroupId=function_group, IpPermissions=[
            {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
    built.update(function_group=function_group, database_group=database_group)

    private_table = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
    for s in (function_a, function_b):
        ec2.associate_route_table(RouteTableId=private_table, SubnetId=s)
    if layout in ("nat", "no-egress", "no-ingress", "aurora", "pending-on-broken-current"):
        public = subnet("10.0.5.0/24", "us-east-1a")
        gateway = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
        ec2.attach_internet_gateway(InternetGatewayId=gateway, VpcId=vpc)
        public_table = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
        ec2.create_route(RouteTableId=public_table, DestinationCidrBlock="0.0.0.0/0", GatewayId=gateway)
        ec2.associate_route_table(RouteTableId=public_table, SubnetId=public)
        allocation = ec2.allocate_address(Domain="vpc")["AllocationId"]
        nat = ec2.create_nat_gateway(SubnetId=public, AllocationId=allocation)["NatGateway"]["NatGatewayId"]
        ec2.create_route(RouteTableId=private_table, DestinationCidrBlock="0.0.0.0/0", NatGatewayId=nat)
        built.update(nat=nat)
    elif layout in ("endpoint", "endpoint-no-dns"):
        endpoint_group = ec2.create_security_group(GroupName=f"{name}-endpoint", Description="secretsmanager endpoint", VpcId=vpc)["GroupId"]
        ec2.authorize_security_group_ingress(GroupId=endpoint_group, IpPermissions=[
            {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "IpRanges": [{"CidrIp": "10.0.0.0/16"}]}])
        endpoint = ec2.create_vpc_endpoint(VpcId=vpc, ServiceName=f"com.amazonaws.{REGION}.secretsmanager", VpcEndpointType="Interface",
                                           SubnetIds=[function_a, function_b], SecurityGroupIds=[endpoint_group], PrivateDnsEnabled=layout == "endpoint")["VpcEndpoint"]["VpcEndpointId"]
        built.update(endpoint=endpoint)

    rds.create_db_subnet_group(DBSubnetGroupName=f"{name}-db", DBSubnetGroupDescription="database subnets", SubnetIds=[database_a, database_b])
    if layout == "aurora":
        cluster = rds.create_db_cluster(DBClusterIdentifier=f"{name}-cluster", Engine="aurora-postgresql", MasterUsername="postgresAdmin",
                                        MasterUserPassword="initial-Pw-1-long-enough", DBSubnetGroupName=f"{name}-db",
                                        VpcSecurityGroupIds=[database_group])["DBCluster"]
        rds.create_db_instance(DBInstanceIdentifier=f"{name}-db", DBInstanceClass="db.t4g.medium", Engine="aurora-postgresql",
                               DBClusterIdentifier=f"{name}-cluster", DBSubnetGroupName=f"{name}-db", PubliclyAccessible=False)
        host = cluster["Endpoint"]
        built.update(cluster=f"{name}-cluster")
    else:
        instance = rds.create_db_instance(DBInstanceIdentifier=f"{name}-db", DBInstanceClass="db.t4g.micro", Engine="postgres", MasterUsername="postgresAdmin",
                                          MasterUserPassword="initial-Pw-1-long-enough", AllocatedStorage=20, DBSubnetGroupName=f"{name}-db",
                                          VpcSecurityGroupIds=[database_group], PubliclyAccessible=False)["DBInstance"]
        host = instance["Endpoint"]["Address"]
    built.update(host=host)

    role = iam.create_role(RoleName=f"{name}-rotation", AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]}))["Role"]["Arn"]
    vpc_config = {} if layout == "no-vpc" else {"VpcConfig": {"SubnetIds": [function_a, function_b], "SecurityGroupIds": [function_group]}}
    function = lam.create_function(FunctionName=f"{name}-rotation", Runtime="python3.12", Role=role, Handler="lambda_function.lambda_handler",
                                   Code={"ZipFile": function_zip()}, Timeout=30,
                                   Environment={"Variables": {"SECRETS_MANAGER_ENDPOINT": f"https://secretsmanager.{REGION}.amazonaws.com"}},
                                   **vpc_config)["FunctionArn"]

    # Rotation enabled without rotating, as the console does: Secrets Manager runs testSecret only. moto keeps the AWSPENDING
    # version that test creates (AWS removes it), so it is removed here: AWSCURRENT on the only version, the labels at rest.
    value = {"engine": "postgres", "host": host, "port": 5432, "username": "postgresAdmin", "password": "initial-Pw-1-long-enough", "dbname": "postgres"}
    secret = sm.create_secret(Name=f"{name}/AdminLoginInfo", SecretString=json.dumps(value))
    sm.rotate_secret(SecretId=secret["ARN"], RotationLambdaARN=function, RotationRules={"AutomaticallyAfterDays": 30}, RotateImmediately=False)
    for version, stages in sm.describe_secret(SecretId=secret["ARN"])["VersionIdsToStages"].items():
        if "AWSPENDING" in stages and "AWSCURRENT" not in stages:
            sm.update_secret_version_stage(SecretId=secret["ARN"], VersionStage="AWSPENDING", RemoveFromVersionId=version)
    if log_file:
        write_log(log_file, f"/aws/lambda/{name}-rotation", secret["ARN"])
    if layout == "pending-on-broken-current":
        db = json.loads(os.environ["DOCTOR_DB"])
        working = dict(value, host=db["host"], port=db["port"], username=db["username"], password=db["password"])
        first = sm.put_secret_value(SecretId=secret["ARN"], SecretString=json.dumps(working))["VersionId"]
        broken = sm.put_secret_value(SecretId=secret["ARN"], SecretString=json.dumps(dict(working, password=db["broken"])), VersionStages=["AWSPENDING"])["VersionId"]
        sm.update_secret_version_stage(SecretId=secret["ARN"], VersionStage="AWSCURRENT", MoveToVersionId=broken, RemoveFromVersionId=first)
        built.update(working_version=first, broken_version=broken)
    print(json.dumps(dict(built, secret=secret["Name"], arn=secret["ARN"], function=function)))


if __name__ == "__main__":
    main(*sys.argv[1:4])
