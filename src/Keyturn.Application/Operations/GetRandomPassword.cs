using Keyturn.Domain.Errors;
using Keyturn.Domain.Passwords;

namespace Keyturn.Application.Operations;

public sealed record GetRandomPasswordRequest(
    long? PasswordLength, string? ExcludeCharacters, bool? ExcludeNumbers, bool? ExcludePunctuation,
    bool? ExcludeUppercase, bool? ExcludeLowercase, bool? IncludeSpace, bool? RequireEachIncludedType);

public sealed record GetRandomPasswordResponse(string RandomPassword);

public sealed class GetRandomPasswordHandler(SecretServices services, IRandomSource random) : IOperation<GetRandomPasswordRequest, GetRandomPasswordResponse>
{
    public string Name => "GetRandomPassword";

    public Task<GetRandomPasswordResponse> ExecuteAsync(GetRandomPasswordRequest request, RequestContext context, CancellationToken cancellationToken)
    {
        new MemberValidator()
            .Range(request.PasswordLength, "passwordLength", 1, 4096)
            .Length(request.ExcludeCharacters, "excludeCharacters", 0, 4096)
            .ThrowIfInvalid();
        services.Authorizer.Authorize(context, Name, "*");

        var passwordRequest = new PasswordRequest(
            (int)(request.PasswordLength ?? 32),
            request.ExcludeCharacters ?? "",
            request.ExcludeNumbers ?? false,
            request.ExcludePunctuation ?? false,
            request.ExcludeUppercase ?? false,
            request.ExcludeLowercase ?? false,
            request.IncludeSpace ?? false,
            request.RequireEachIncludedType ?? true);
        try
        {
            return Task.FromResult(new GetRandomPasswordResponse(RandomPasswordGenerator.Generate(passwordRequest, random)));
        }
        catch (PasswordPolicyException e)
        {
            throw new ServiceException(ErrorKinds.Parse(e.ErrorCode), e.Message);
        }
    }
}
