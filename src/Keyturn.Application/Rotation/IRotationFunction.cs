using System.Text.Json.Serialization;

namespace Keyturn.Application.Rotation;

/// <summary>A rotation function: invoked once per step with the Lambda event contract.</summary>
public interface IRotationFunction
{
    string Name { get; }

    /// <summary>How long one step may run: a registered function's own timeout, or null for the engine's default.</summary>
    TimeSpan? Timeout => null;

    /// <summary>Runs one step; throws <see cref="RotationStepException"/> when the step failed.</summary>
    Task InvokeAsync(RotationEvent rotationEvent, InvocationLog log, CancellationToken cancellationToken);
}

/// <summary>The event AWS sends a rotation Lambda (member names and camelCase step values are the contract).</summary>
public sealed record RotationEvent(
    [property: JsonPropertyName("Step")] string Step,
    [property: JsonPropertyName("SecretId")] string SecretId,
    [property: JsonPropertyName("ClientRequestToken")] string ClientRequestToken,
    [property: JsonPropertyName("RotationToken")] string RotationToken);

[JsonSerializable(typeof(RotationEvent))]
internal sealed partial class RotationJsonContext : JsonSerializerContext;

/// <summary>
/// A step failed. <see cref="Permanent"/> errors (authentication, missing fields, permissions,
/// privilege differences) stop the rotation at once; others are retried with backoff.
/// </summary>
public sealed class RotationStepException(string message, bool permanent) : Exception(message)
{
    public bool Permanent { get; } = permanent;
}
