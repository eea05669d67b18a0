using System.Net;
using Keyturn.Domain.Doctor;

namespace Keyturn.Doctor;

/// <summary>
/// Asks EC2 instance metadata for the region as the AWS CLI's IMDSRegionProvider does: an IMDSv2 token
/// (<c>PUT latest/api/token</c>; 403, 404 or 405, or a read that times out, means no token and IMDSv1 is tried unless
/// disabled; 400 is a refusal), then <c>GET latest/meta-data/placement/availability-zone</c> with the token, retried on
/// an error, a non-200 answer or an empty body; every request bounded by the configured timeout and tried the
/// configured number of times. Off EC2 this costs at most (1 + attempts) × timeout, 2 s by default, and never hangs.
/// </summary>
internal static class InstanceMetadataClient
{
    private const string TokenTtlSeconds = "21600";

    public static async Task<InstanceMetadataAnswer> RegionAsync(InstanceMetadataSettings settings, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(settings);
        using var http = new HttpClient(new SocketsHttpHandler { ConnectTimeout = settings.Timeout }) { Timeout = settings.Timeout };
        var tokenUrl = settings.UrlOf(InstanceMetadataSettings.TokenPath);
        string? token = null;
        for (var attempt = 0; attempt < settings.Attempts && token is null; attempt++)
        {
            try
            {
                using var request = new HttpRequestMessage(HttpMethod.Put, tokenUrl);
                request.Headers.Add("x-aws-ec2-metadata-token-ttl-seconds", TokenTtlSeconds);
                using var response = await http.SendAsync(request, cancellationToken).ConfigureAwait(false);
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    token = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
                }
                else if (response.StatusCode is HttpStatusCode.Forbidden or HttpStatusCode.NotFound or HttpStatusCode.MethodNotAllowed)
                {
                    break;
                }
                else if (response.StatusCode == HttpStatusCode.BadRequest)
                {
                    return new(null, $"{tokenUrl} refused the IMDSv2 token request (HTTP 400)");
                }
            }
            catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                // botocore gives up on the token after a read timeout and goes on without one.
                break;
            }
            catch (HttpRequestException)
            {
                // A connection failure is tried again, as botocore does.
            }
        }

        if (token is null && settings.V1Disabled)
        {
            return new(null, $"no IMDSv2 token from {tokenUrl}, and IMDSv1 is disabled (ec2_metadata_v1_disabled)");
        }

        var url = settings.UrlOf(InstanceMetadataSettings.AvailabilityZonePath);
        var last = "no answer";
        for (var attempt = 0; attempt < settings.Attempts; attempt++)
        {
            try
            {
                using var request = new HttpRequestMessage(HttpMethod.Get, url);
                if (token is not null)
                {
                    request.Headers.Add("x-aws-ec2-metadata-token", token);
                }

                using var response = await http.SendAsync(request, cancellationToken).ConfigureAwait(false);
                var body = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
                if (response.StatusCode != HttpStatusCode.OK || body.Length == 0)
                {
                    last = $"HTTP {(int)response.StatusCode}{(body.Length == 0 ? " with an empty body" : "")}";
                    continue;
                }

                return InstanceMetadataSettings.RegionOf(body) is { } region
                    ? new(region, $"{url} answered availability zone {body.Trim()}")
                    : new(null, $"{url} answered '{Shorten(body)}', which is not an availability zone");
            }
            catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                last = $"no answer within {settings.Timeout.TotalSeconds:0.#} s";
            }
            catch (HttpRequestException e)
            {
                last = e.Message;
            }
        }

        return new(null, $"{url}: {last} ({settings.Attempts} attempt{(settings.Attempts == 1 ? "" : "s")}, {settings.Timeout.TotalSeconds:0.#} s each)");
    }

    private static string Shorten(string text)
    {
        var line = text.Trim().ReplaceLineEndings(" ");
        return line.Length <= 40 ? line : line[..40] + "…";
    }
}
