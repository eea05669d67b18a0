using System.Collections;
using Microsoft.AspNetCore.Http;

namespace Keyturn.Server.Protocol;

/// <summary>
/// A request's headers as the flat list SigV4 verification reads (a repeated header as separate entries, in the order
/// received), in an array reused per thread: the name and value strings are Kestrel's own, so taking the list
/// allocates nothing once warm. Hand it back with <see cref="Return"/> once nothing reads it any more.
/// </summary>
internal sealed class RequestHeaderList : IReadOnlyList<KeyValuePair<string, string>>
{
    // A request with more headers than this is rare; do not keep its array alive on the thread.
    private const int MaxRetainedEntries = 128;

    [ThreadStatic]
    private static RequestHeaderList? _threadCached;

    private KeyValuePair<string, string>[] _entries = new KeyValuePair<string, string>[32];

    public int Count { get; private set; }

    public KeyValuePair<string, string> this[int index] =>
        (uint)index < (uint)Count ? _entries[index] : throw new ArgumentOutOfRangeException(nameof(index));

    /// <summary>Takes the thread's list (or a new one when it is in use) filled with the request's headers.</summary>
    public static RequestHeaderList Rent(HttpRequest request)
    {
        var list = _threadCached ?? new RequestHeaderList();
        _threadCached = null;
        foreach (var header in request.Headers)
        {
            foreach (var value in header.Value)
            {
                list.Add(header.Key, value ?? "");
            }
        }

        // HTTP/2 clients send :authority; the signature names it as Host.
        if (!request.Headers.ContainsKey("Host") && request.Host.HasValue)
        {
            list.Add("Host", request.Host.Value);
        }

        return list;
    }

    /// <summary>Empties the list (dropping its references to the request's strings) and hands it back to the thread.</summary>
    public static void Return(RequestHeaderList list)
    {
        Array.Clear(list._entries, 0, list.Count);
        list.Count = 0;
        if (list._entries.Length <= MaxRetainedEntries)
        {
            _threadCached = list;
        }
    }

    public IEnumerator<KeyValuePair<string, string>> GetEnumerator()
    {
        for (var i = 0; i < Count; i++)
        {
            yield return _entries[i];
        }
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    private void Add(string name, string value)
    {
        if (Count == _entries.Length)
        {
            Array.Resize(ref _entries, Count * 2);
        }

        _entries[Count++] = new(name, value);
    }
}
