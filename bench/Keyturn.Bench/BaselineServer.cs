using System.Net;
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
/// is all a start-up check needs), so the CPU mode's baseline is the HTTP plumbing alone.
/// </summary>
internal static class BaselineServer
{
    private static readonly byte[] Body = """{"ARN":"baseline","Name":"baseline","SecretString":"fixed"}"""u8.ToArray();

    public static async Task<int> RunAsync(Flags flags)
    {
        var listen = flags.Required("listen");
        var bare = flags.Switch("bare");
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
        context.Response.StatusCode = 200;
        context.Response.ContentType = "application/x-amz-json-1.1";
        context.Response.ContentLength = Body.Length;
        return context.Response.Body.WriteAsync(Body).AsTask();
    }

    private static IPEndPoint ParseEndpoint(string listen)
    {
        var colon = listen.LastIndexOf(':');
        return colon > 0 && IPAddress.TryParse(listen[..colon], out var address) && int.TryParse(listen[(colon + 1)..], out var port)
            ? new IPEndPoint(address, port)
            : throw new ArgumentException($"--listen must be IP:PORT, got '{listen}'.");
    }
}
