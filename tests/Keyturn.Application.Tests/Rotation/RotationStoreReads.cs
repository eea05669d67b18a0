using Keyturn.Application.Ports;
using Keyturn.Application.Rotation;

namespace Keyturn.Application.Tests.Rotation;

/// <summary>The rotation bookkeeping as the store holds it, read through the asynchronous port.</summary>
internal static class RotationStoreReads
{
    public static async Task<RotationRecord> RotationAsync(this ISecretStore store, string arn, string token) =>
        (await store.ReadAsync((session, ct) => session.FindRotationAsync(arn, token, ct), default))!;

    public static ValueTask<IReadOnlyList<JournalEntry>> JournalAsync(this ISecretStore store, string arn, string token) =>
        store.ReadAsync((session, ct) => session.ReadJournalAsync(arn, token, ct), default);

    public static ValueTask<IReadOnlyList<RotationRecord>> RotationsAsync(this ISecretStore store, string arn) =>
        store.ReadAsync((session, ct) => session.ListRotationsAsync(arn, openOnly: false, ct), default);
}
