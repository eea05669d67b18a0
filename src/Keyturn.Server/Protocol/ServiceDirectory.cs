namespace Keyturn.Server.Protocol;

/// <summary>The services on <c>POST /</c>: picks the operation table whose prefix starts <c>X-Amz-Target</c>.</summary>
public sealed class ServiceDirectory(IReadOnlyList<OperationTable> tables)
{
    public IReadOnlyList<OperationTable> Tables => tables;

    /// <summary>The table for a target, or null when no service claims it.</summary>
    public OperationTable? For(string target)
    {
        foreach (var table in tables)
        {
            if (target.StartsWith(table.Prefix, StringComparison.Ordinal))
            {
                return table;
            }
        }

        return null;
    }
}
