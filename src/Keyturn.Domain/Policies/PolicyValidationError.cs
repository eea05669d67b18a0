namespace Keyturn.Domain.Policies;

/// <summary>One entry of ValidateResourcePolicy's <c>ValidationErrors</c>.</summary>
/// <param name="CheckName">Which check failed; see <see cref="PolicyCheckNames"/>.</param>
/// <param name="ErrorMessage">What is wrong, naming the statement.</param>
public sealed record PolicyValidationError(string CheckName, string ErrorMessage);
