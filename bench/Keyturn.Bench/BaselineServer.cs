using System.Net;
using System.Runtime.InteropServices;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Logging;

namespace Keyturn.Bench;

/// <summary>
/// The ceiling: Kestrel configured as Keyturn's is (slim builder, HTTP/1.1, no Server header) answering
/// <c>POST /</c> with a fixed 200 and a small JSON body, doing no work of its own. With <c>--bare</c> there is
/// no routing either: <c>app.Run</c> answers every request with that fixed 200 (<c>GET /health</c> included, which
/// is all a start-up check needs), so the CPU mode's baseline is the HTTP plumbing alone. <c>--burn-us</c> and
/// <c>--allocate-bytes</c> add a known cost to every request (CPU time of the request's thread, one byte array), so a
/// CPU-mode run against such a server checks that the harness measures exactly that difference.
/// </summary>
internal static partial class BaselineServer
{
    private const int ThreadCpuClock = 3; // CLOCK_THREAD_CPUTIME_ID

    private static readonly byte[] Body = """{"ARN":"baseline","Name":"baseline","SecretString":"fixed"}"""u8.ToArray();

    private static double _burnMicros;
    private static int _allocateBytes;

    // Where each request's calibration array goes, so no optimization can drop the allocation.
    private static byte[]? _sink;

    public static async Task<int> RunAsync(Flags flags)
    {
        var listen = flags.Required("listen");
        var bare = flags.Switch("bare");
        _burnMicros = flags.Seconds("burn-us", 0);
        _allocateBytes = flags.Int("allocate-bytes", 0, min: 0);
        flags.RejectUnknown();

        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Listen(ParseEndpoint(listen), l => l.Protocols = HttpProtocols.Http1);
        });

        var app = builder.Build();
        if (bare)
        {
            app.Run(Answer);
        }
        else
        {
            app.MapGet("/health", (RequestDelegate)(context => context.Response.WriteAsync("ok")));
            app.MapPost("/", Answer);
        }

        await app.RunAsync();
        return 0;
    }

    private static Task Answer(HttpContext context)
    {
        if (_burnMicros > 0)
        {
            Burn(_burnMicros);
        }

        if (_allocateBytes > 0)
        {
            Volatile.Write(ref _sink, new byte[_allocateBytes]);
        }

        context.Response.StatusCode = 200;
        context.Response.ContentType = "application/x-amz-json-1.1";
        context.Response.ContentLength = Body.Length;
        return context.Response.Body.WriteAsync(Body).AsTask();
    }

    /// <summary>Spins until this thread has used <paramref name="micros"/> µs of CPU (not wall-clock time, which a busy machine stretches).</summary>
    private static void Burn(double micros)
    {
        var until = ThreadCpuNanoseconds() + (long)(micros * 1000);
        while (ThreadCpuNanoseconds() < until)
        {
        }
    }

    private static long ThreadCpuNanoseconds() =>
        ClockGetTime(ThreadCpuClock, out var now) == 0 ? (now.Seconds * 1_000_000_000) + now.Nanoseconds : throw new InvalidOperationException("clock_gettime failed.");

    [LibraryImport("libc", EntryPoint = "clock_gettime")]
    private static partial int ClockGetTime(int clock, out TimeSpec time);

    private static IPEndPoint ParseEndpoint(string listen)
    {
        var colon = listen.LastIndexOf(':');
        return colon > 0 && IPAddress.TryParse(listen[..colon], out var address) && int.TryParse(listen[(colon + 1)..], out var port)
            ? new IPEndPoint(address, port)
            : throw new ArgumentException($"--listen must be IP:PORT, got '{listen}'.");
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct TimeSpec
    {
        public long Seconds;
        public long Nanoseconds;
    }
}
