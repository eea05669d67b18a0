namespace Keyturn.Domain.Tests.Doctor;

/// <summary>The field report's rotation logs, copied verbatim (tabs and all) from /work/shared/seed/000_bc45c0fa2a65f16b.txt.</summary>
internal static class SeedLogs
{
    /// <summary>Verbatim from the field report (seed 000).</summary>
    public const string FailureExample1 = """
        START RequestId: 24ce3d1b-e194-482c-b33a-5d879e5d15d5 Version: $LATEST
        [INFO]	2022-03-28T05:33:50.860Z	24ce3d1b-e194-482c-b33a-5d879e5d15d5	Found credentials in environment variables.
        [INFO]	2022-03-28T05:33:52.139Z	24ce3d1b-e194-482c-b33a-5d879e5d15d5	createSecret: Successfully put secret for ARN arn:aws:secretsmanager:us-east-1:<AWSアカウントID>:secret:prd-db-cluster/AdminLoginInfo-vXO5yx and version 4bcc57ad-6901-489f-88cf-c5b56f14cbca.
        END RequestId: 24ce3d1b-e194-482c-b33a-5d879e5d15d5
        REPORT RequestId: 24ce3d1b-e194-482c-b33a-5d879e5d15d5	Duration: 1548.10 ms	Billed Duration: 1549 ms	Memory Size: 128 MB	Max Memory Used: 73 MB	Init Duration: 318.95 ms	
        START RequestId: f312a4c3-3d5f-45f2-aa67-a95e1985f993 Version: $LATEST
        [ERROR]	2022-03-28T05:34:07.568Z	f312a4c3-3d5f-45f2-aa67-a95e1985f993	setSecret: Unable to log into database with previous, current, or pending secret of secret arn arn:aws:secretsmanager:us-east-1:<AWSアカウントID>:secret:prd-db-cluster/AdminLoginInfo-vXO5yx
        [ERROR] ValueError: Unable to log into database with previous, current, or pending secret of secret arn arn:aws:secretsmanager:us-east-1:<AWSアカウントID>:secret:prd-db-cluster/AdminLoginInfo-vXO5yx
        Traceback (most recent call last):
          File "/var/task/lambda_function.py", line 76, in lambda_handler
            set_secret(service_client, arn, token)
          File "/var/task/lambda_function.py", line 169, in set_secret
            raise ValueError("Unable to log into database with previous, current, or pending secret of secret arn %s" % arn)
        END RequestId: f312a4c3-3d5f-45f2-aa67-a95e1985f993
        REPORT RequestId: f312a4c3-3d5f-45f2-aa67-a95e1985f993	Duration: 15393.85 ms	Billed Duration: 15394 ms	Memory Size: 128 MB	Max Memory Used: 73 MB
        """;

    /// <summary>Verbatim from the field report (seed 000).</summary>
    public const string FailureExample2 = """
        START RequestId: 74fc027b-8dc0-4da4-b618-239b54b95247 Version: $LATEST
        [INFO]	2022-03-28T02:38:08.558Z	74fc027b-8dc0-4da4-b618-239b54b95247	Found credentials in environment variables.
        END RequestId: 74fc027b-8dc0-4da4-b618-239b54b95247
        REPORT RequestId: 74fc027b-8dc0-4da4-b618-239b54b95247	Duration: 30032.43 ms	Billed Duration: 30000 ms	Memory Size: 128 MB	Max Memory Used: 71 MB	Init Duration: 372.84 ms	
        2022-03-28T02:38:38.338Z 74fc027b-8dc0-4da4-b618-239b54b95247 Task timed out after 30.03 seconds
        """;

    /// <summary>Verbatim from the field report (seed 000).</summary>
    public const string SuccessfulRotation = """
        START RequestId: da9f8651-3e4f-41bd-9413-36a979df433f Version: $LATEST
        [INFO]	2022-03-28T10:44:37.078Z	da9f8651-3e4f-41bd-9413-36a979df433f	Found credentials in environment variables.
        [INFO]	2022-03-28T10:44:38.551Z	da9f8651-3e4f-41bd-9413-36a979df433f	createSecret: Successfully put secret for ARN arn:aws:secretsmanager:us-east-1:<AWSアカウントID>:secret:prd-db-cluster/AdminLoginInfo-vXO5yx and version 7ba9c7e1-0531-4248-b37e-9b9073aa9fd3.
        END RequestId: da9f8651-3e4f-41bd-9413-36a979df433f
        REPORT RequestId: da9f8651-3e4f-41bd-9413-36a979df433f	Duration: 1772.00 ms	Billed Duration: 1772 ms	Memory Size: 128 MB	Max Memory Used: 73 MB	Init Duration: 426.19 ms	
        
        START RequestId: 8e10fce2-5019-4d7e-90e0-cbd9eda8a99b Version: $LATEST
        [INFO]	2022-03-28T10:44:39.192Z	8e10fce2-5019-4d7e-90e0-cbd9eda8a99b	setSecret: Successfully set password for user postgresAdmin in PostgreSQL DB for secret arn arn:aws:secretsmanager:us-east-1:<AWSアカウントID>:secret:prd-db-cluster/AdminLoginInfo-vXO5yx.
        END RequestId: 8e10fce2-5019-4d7e-90e0-cbd9eda8a99b
        REPORT RequestId: 8e10fce2-5019-4d7e-90e0-cbd9eda8a99b	Duration: 618.21 ms	Billed Duration: 619 ms	Memory Size: 128 MB	Max Memory Used: 75 MB	
        
        START RequestId: e2408615-4feb-4d8b-812c-286d8812a56f Version: $LATEST
        [INFO]	2022-03-28T10:44:39.522Z	e2408615-4feb-4d8b-812c-286d8812a56f	testSecret: Successfully signed into PostgreSQL DB with AWSPENDING secret in arn:aws:secretsmanager:us-east-1:<AWSアカウントID>:secret:prd-db-cluster/AdminLoginInfo-vXO5yx.
        END RequestId: e2408615-4feb-4d8b-812c-286d8812a56f
        REPORT RequestId: e2408615-4feb-4d8b-812c-286d8812a56f	Duration: 321.87 ms	Billed Duration: 322 ms	Memory Size: 128 MB	Max Memory Used: 75 MB	
        
        START RequestId: cdd11f74-6b58-4564-94ef-3321862ab631 Version: $LATEST
        [INFO]	2022-03-28T10:44:39.897Z	cdd11f74-6b58-4564-94ef-3321862ab631	finishSecret: Successfully set AWSCURRENT stage to version 7ba9c7e1-0531-4248-b37e-9b9073aa9fd3 for secret arn:aws:secretsmanager:us-east-1:<AWSアカウントID>:secret:prd-db-cluster/AdminLoginInfo-vXO5yx.
        END RequestId: cdd11f74-6b58-4564-94ef-3321862ab631
        REPORT RequestId: cdd11f74-6b58-4564-94ef-3321862ab631	Duration: 355.55 ms	Billed Duration: 356 ms	Memory Size: 128 MB	Max Memory Used: 76 MB
        """;
}
