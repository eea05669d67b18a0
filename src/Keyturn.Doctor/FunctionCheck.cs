using Keyturn.Protocol.Client;

namespace Keyturn.Doctor;

/// <summary>
/// Asks whether the rotation function exists, through Lambda's GetFunctionConfiguration (which Keyturn
/// serves for its built-in and registered functions). Only a "not found" answer counts as missing; a
/// refused or failed read leaves the question open rather than accusing the function. Answers are kept
/// for the run, since <c>--all</c> asks about the same few functions for every secret.
/// </summary>
internal sealed class FunctionCheck(AwsInspector inspector)
{
    private readonly Dictionary<string, Task<bool?>> _answers = new(StringComparer.Ordinal);

    public Task<bool?> ExistsAsync(string function, CancellationToken cancellationToken)
    {
        lock (_answers)
        {
            if (!_answers.TryGetValue(function, out var answer))
            {
                answer = AskAsync(function, cancellationToken);
                _answers[function] = answer;
            }

            return answer;
        }
    }

    private async Task<bool?> AskAsync(string function, CancellationToken cancellationToken)
    {
        try
        {
            await inspector.GetFunctionConfigurationAsync(function, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (AwsServiceException e) when (e.ErrorCode == "ResourceNotFoundException")
        {
            return false;
        }
        catch (Exception e) when (e is AwsServiceException or HttpRequestException)
        {
            return null;
        }
    }
}
