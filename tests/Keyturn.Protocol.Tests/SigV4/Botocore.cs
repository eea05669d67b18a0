using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Keyturn.Protocol.Tests.SigV4;

/// <summary>Signs requests with the real botocore (what the AWS CLI and boto3 use) through a short Python script.</summary>
internal static class Botocore
{
    public const string Python = "/usr/bin/python3";

    private const string Script = """
        import json, sys
        from botocore.auth import SigV4Auth, SigV4QueryAuth
        from botocore.awsrequest import AWSRequest
        from botocore.credentials import Credentials

        out = []
        for case in json.load(sys.stdin):
            creds = Credentials(case["accessKey"], case["secretKey"], case.get("token"))
            request = AWSRequest(method=case["method"], url=case["url"], headers=dict(case.get("headers") or {}),
                                 data=(case.get("body") or "").encode("utf-8"))
            # HTTPHeaders is an email Message: assigning a name again adds another header of that name.
            for name, value in case.get("headerList") or []:
                request.headers[name] = value
            if case.get("presignExpires"):
                SigV4QueryAuth(creds, case["service"], case["region"], expires=case["presignExpires"]).add_auth(request)
            else:
                SigV4Auth(creds, case["service"], case["region"]).add_auth(request)
            out.append({"url": request.url, "headers": [[k, v] for k, v in request.headers.items()],
                        "timestamp": request.context["timestamp"]})
        json.dump(out, sys.stdout)
        """;

    private static readonly Lazy<bool> Available = new(() =>
    {
        try
        {
            return Run(["-c", "import botocore"], string.Empty).ExitCode == 0;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return false;
        }
    });

    public static bool IsAvailable => Available.Value;

    public static IReadOnlyList<BotocoreSigned> Sign(params BotocoreCase[] cases)
    {
        var (exitCode, output, error) = Run(["-c", Script], JsonSerializer.Serialize(cases, JsonOptions));
        Assert.True(exitCode == 0, "botocore failed: " + error);
        return JsonSerializer.Deserialize<List<BotocoreSigned>>(output, JsonOptions)!;
    }

    public static DateTimeOffset ParseTimestamp(string timestamp) =>
        DateTimeOffset.ParseExact(timestamp, "yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal);

    private static readonly JsonSerializerOptions JsonOptions = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    private static (int ExitCode, string Output, string Error) Run(IEnumerable<string> arguments, string input)
    {
        var start = new ProcessStartInfo(Python)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        process.StandardInput.Write(input);
        process.StandardInput.Close();
        if (!process.WaitForExit(TimeSpan.FromSeconds(60)))
        {
            process.Kill();
            throw new TimeoutException("python3 did not finish within 60 seconds.");
        }

        return (process.ExitCode, output.Result, error.Result);
    }
}
