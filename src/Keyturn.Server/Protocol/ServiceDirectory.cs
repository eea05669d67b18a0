namespace Keyturn.Server.Protocol;

/// <summary>The services on <c>POST /</c>: picks the operation table whose prefix starts <c>X-Amz-Target</c>.</summary>
public sealed class ServiceDirectory(IReadOnlyList<OperationTable> tables)
{
    public IReadOnlyList<OperationTable> Tables => tables;

    /// <summary>The table for a target, or null when no service claims it.</summary>
    public OperationTable? For(string target)
    {
        // Indexed: a foreach over the interface would box the enumerator on every request.
        for (var i = 0; i < tables.Count; i++)
        {
            if (target.StartsWith(tables[i].Prefix, StringComparison.Ordinal))
            {
                return tables[i];
            }
        }

        return null;
    }
}
