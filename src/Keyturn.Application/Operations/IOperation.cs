namespace Keyturn.Application.Operations;

/// <summary>One Secrets Manager action (the part after <c>secretsmanager.</c> in X-Amz-Target).</summary>
public interface IOperation<in TRequest, TResponse>
    where TRequest : class
{
    string Name { get; }

    Task<TResponse> ExecuteAsync(TRequest request, RequestContext context, CancellationToken cancellationToken);
}
