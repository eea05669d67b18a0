using System.Buffers.Binary;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Keyturn.Application.Rotation;
using Npgsql;
using SslMode = Keyturn.Application.Rotation.SslMode;

namespace Keyturn.Rotators.PostgreSql;

/// <summary>
/// A login over the PostgreSQL wire protocol (v3) that ends at ReadyForQuery and runs nothing: the doctor's probe,
/// one per secret in <c>doctor --all</c>. Everything the server decides about a login (password, role, NOLOGIN,
/// pg_hba.conf, the database and CONNECT on it) happens before ReadyForQuery, so this answers "does this password log
/// in" as fully as a session would, at a fraction of a driver's client-side cost. TLS follows the rotator's modes:
/// <c>disable</c>; <c>prefer</c> (used when the server offers it, unverified, as libpq and Npgsql do); <c>require</c>
/// (verify-full: trusted chain and host name). Authentication: SCRAM-SHA-256 (the server's signature is checked),
/// md5 and cleartext. Server errors come back as <see cref="PostgresException"/> with the server's SQLSTATE and
/// routine, so they are classified exactly as the driver's are.
/// </summary>
internal static class PostgresLogin
{
    private const int ProtocolVersion3 = 196608;
    private const int SslRequestCode = 80877103;
    private const int MaxMessage = 1 << 20;

    public static async Task LoginAsync(DatabaseConnection connection, string database, string? rootCertificatePath, CancellationToken cancellationToken)
    {
        using var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await socket.ConnectAsync(connection.Host, connection.Port, cancellationToken).ConfigureAwait(false);
        Stream stream = new NetworkStream(socket, ownsSocket: false);
        try
        {
            if (connection.Ssl != SslMode.Disable)
            {
                stream = await NegotiateTlsAsync(stream, connection, rootCertificatePath, cancellationToken).ConfigureAwait(false);
            }

            var wire = new Wire(stream);
            await wire.SendAsync(Startup(connection.Username, database), cancellationToken).ConfigureAwait(false);
            await AuthenticateAsync(wire, connection, cancellationToken).ConfigureAwait(false);
            while (true)
            {
                var (type, body) = await wire.ReadAsync(cancellationToken).ConfigureAwait(false);
                switch (type)
                {
                    case (byte)'Z':
                        await wire.SendAsync([(byte)'X', 0, 0, 0, 4], cancellationToken).ConfigureAwait(false);
                        return;
                    case (byte)'E':
                        throw ServerError(body);
                    default:
                        // ParameterStatus, BackendKeyData, NoticeResponse, NegotiateProtocolVersion: nothing a probe needs.
                        continue;
                }
            }
        }
        finally
        {
            await stream.DisposeAsync().ConfigureAwait(false);
        }
    }

    private static async Task<Stream> NegotiateTlsAsync(Stream stream, DatabaseConnection connection, string? rootCertificatePath, CancellationToken cancellationToken)
    {
        var request = new byte[8];
        BinaryPrimitives.WriteInt32BigEndian(request, 8);
        BinaryPrimitives.WriteInt32BigEndian(request.AsSpan(4), SslRequestCode);
        await stream.WriteAsync(request, cancellationToken).ConfigureAwait(false);
        var answer = new byte[1];
        await stream.ReadExactlyAsync(answer, cancellationToken).ConfigureAwait(false);
        if (answer[0] == (byte)'N')
        {
            return connection.Ssl == SslMode.Require
                ? throw new NpgsqlException("SSL connection requested. No SSL enabled connection from this host is configured.")
                : stream;
        }

        if (answer[0] != (byte)'S')
        {
            throw new IOException($"The server answered the TLS request with '{(char)answer[0]}'.");
        }

        // Revocation isn't checked, as Npgsql's default (CheckCertificateRevocation=false): RDS certificates carry no
        // CRL or OCSP the database's network could reach anyway.
        var options = new SslClientAuthenticationOptions { TargetHost = connection.Host, CertificateRevocationCheckMode = X509RevocationMode.NoCheck };
        if (connection.Ssl == SslMode.Require)
        {
            if (rootCertificatePath is not null)
            {
                var roots = new X509Certificate2Collection();
                roots.ImportFromPemFile(rootCertificatePath);
                options.CertificateChainPolicy = new X509ChainPolicy { TrustMode = X509ChainTrustMode.CustomRootTrust, RevocationMode = X509RevocationMode.NoCheck };
                options.CertificateChainPolicy.CustomTrustStore.AddRange(roots);
            }
        }
        else
        {
            // prefer: encryption without verification, as libpq's and Npgsql's sslmode=prefer.
            options.RemoteCertificateValidationCallback = (_, _, _, _) => true;
        }

        var tls = new SslStream(stream, leaveInnerStreamOpen: false);
        try
        {
            await tls.AuthenticateAsClientAsync(options, cancellationToken).ConfigureAwait(false);
            return tls;
        }
        catch
        {
            await tls.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    private static async Task AuthenticateAsync(Wire wire, DatabaseConnection connection, CancellationToken cancellationToken)
    {
        Scram? scram = null;
        while (true)
        {
            var (type, body) = await wire.ReadAsync(cancellationToken).ConfigureAwait(false);
            if (type == (byte)'E')
            {
                throw ServerError(body);
            }

            if (type != (byte)'R' || body.Length < 4)
            {
                throw new IOException($"Unexpected message '{(char)type}' during authentication.");
            }

            var code = BinaryPrimitives.ReadInt32BigEndian(body);
            switch (code)
            {
                case 0:
                    if (scram is { Verified: false })
                    {
                        throw new InvalidDataException("The server accepted the login without proving it knows the password (SCRAM).");
                    }

                    return;
                case 3:
                    await wire.SendAsync(PasswordMessage(Encoding.UTF8.GetBytes(connection.Password)), cancellationToken).ConfigureAwait(false);
                    break;
                case 5:
                    await wire.SendAsync(PasswordMessage(Md5Response(connection.Username, connection.Password, body.AsSpan(4, 4))), cancellationToken).ConfigureAwait(false);
                    break;
                case 10:
                    if (!Mechanisms(body.AsSpan(4)).Contains("SCRAM-SHA-256"))
                    {
                        throw new NotSupportedException("The server offers no SASL mechanism Keyturn speaks (SCRAM-SHA-256).");
                    }

                    scram = new Scram(connection.Password);
                    await wire.SendAsync(scram.InitialResponse(), cancellationToken).ConfigureAwait(false);
                    break;
                case 11 when scram is not null:
                    await wire.SendAsync(scram.FinalResponse(Encoding.UTF8.GetString(body.AsSpan(4))), cancellationToken).ConfigureAwait(false);
                    break;
                case 12 when scram is not null:
                    scram.VerifyServer(Encoding.UTF8.GetString(body.AsSpan(4)));
                    break;
                default:
                    throw new NotSupportedException($"The server asks for an authentication method Keyturn doesn't speak (code {code}).");
            }
        }
    }

    private static byte[] Startup(string user, string database)
    {
        var parameters = new MemoryStream();
        foreach (var text in new[] { "user", user, "database", database, "application_name", "keyturn-doctor", "client_encoding", "UTF8" })
        {
            var bytes = Encoding.UTF8.GetBytes(text);
            parameters.Write(bytes);
            parameters.WriteByte(0);
        }

        parameters.WriteByte(0);
        var message = new byte[8 + parameters.Length];
        BinaryPrimitives.WriteInt32BigEndian(message, message.Length);
        BinaryPrimitives.WriteInt32BigEndian(message.AsSpan(4), ProtocolVersion3);
        parameters.ToArray().CopyTo(message, 8);
        return message;
    }

    private static byte[] PasswordMessage(byte[] password)
    {
        var message = new byte[1 + 4 + password.Length + 1];
        message[0] = (byte)'p';
        BinaryPrimitives.WriteInt32BigEndian(message.AsSpan(1), message.Length - 1);
        password.CopyTo(message, 5);
        CryptographicOperations.ZeroMemory(password);
        return message;
    }

    private static byte[] Md5Response(string user, string password, ReadOnlySpan<byte> salt)
    {
#pragma warning disable CA5351 // md5 is what the server asked for; the probe only answers it.
        var inner = Convert.ToHexStringLower(MD5.HashData(Encoding.UTF8.GetBytes(password + user)));
        var outer = MD5.HashData([.. Encoding.ASCII.GetBytes(inner), .. salt]);
#pragma warning restore CA5351
        return Encoding.ASCII.GetBytes("md5" + Convert.ToHexStringLower(outer));
    }

    private static List<string> Mechanisms(ReadOnlySpan<byte> list)
    {
        var names = new List<string>();
        while (list.Length > 0 && list[0] != 0)
        {
            var end = list.IndexOf((byte)0);
            names.Add(Encoding.ASCII.GetString(list[..end]));
            list = list[(end + 1)..];
        }

        return names;
    }

    /// <summary>An ErrorResponse as the driver would raise it: SQLSTATE, severity, message, routine.</summary>
    private static PostgresException ServerError(byte[] body)
    {
        var fields = new Dictionary<char, string>();
        var rest = body.AsSpan();
        while (rest.Length > 1 && rest[0] != 0)
        {
            var end = rest[1..].IndexOf((byte)0);
            if (end < 0)
            {
                break;
            }

            fields[(char)rest[0]] = Encoding.UTF8.GetString(rest.Slice(1, end));
            rest = rest[(end + 2)..];
        }

        string Field(char key) => fields.GetValueOrDefault(key, string.Empty);
        return new PostgresException(Field('M'), Field('S'), fields.GetValueOrDefault('V', Field('S')), Field('C'),
            detail: fields.GetValueOrDefault('D'), hint: fields.GetValueOrDefault('H'), file: fields.GetValueOrDefault('F'),
            line: fields.GetValueOrDefault('L'), routine: fields.GetValueOrDefault('R'));
    }

    /// <summary>Length-prefixed messages over the stream, with bounds: a probe never trusts the peer's lengths.</summary>
    private sealed class Wire(Stream stream)
    {
        private readonly byte[] _header = new byte[5];

        public async Task SendAsync(byte[] message, CancellationToken cancellationToken)
        {
            await stream.WriteAsync(message, cancellationToken).ConfigureAwait(false);
            await stream.FlushAsync(cancellationToken).ConfigureAwait(false);
        }

        public async Task<(byte Type, byte[] Body)> ReadAsync(CancellationToken cancellationToken)
        {
            await stream.ReadExactlyAsync(_header, cancellationToken).ConfigureAwait(false);
            var length = BinaryPrimitives.ReadInt32BigEndian(_header.AsSpan(1));
            if (length < 4 || length > MaxMessage)
            {
                throw new IOException($"The server sent a message of {length} bytes; not a PostgreSQL server?");
            }

            var body = new byte[length - 4];
            await stream.ReadExactlyAsync(body, cancellationToken).ConfigureAwait(false);
            return (_header[0], body);
        }
    }

    /// <summary>SCRAM-SHA-256 (RFC 5802/7677) without channel binding ("n,,"), as PostgreSQL implements it.</summary>
    private sealed class Scram(string password)
    {
        private readonly string _clientNonce = Convert.ToBase64String(RandomNumberGenerator.GetBytes(18));
        private string _clientFirstBare = string.Empty;
        private byte[] _serverSignature = [];

        public bool Verified { get; private set; }

        public byte[] InitialResponse()
        {
            // PostgreSQL takes the user from the startup message and ignores the SCRAM user name.
            _clientFirstBare = "n=,r=" + _clientNonce;
            var data = Encoding.UTF8.GetBytes("n,," + _clientFirstBare);
            var mechanism = Encoding.ASCII.GetBytes("SCRAM-SHA-256");
            var message = new byte[1 + 4 + mechanism.Length + 1 + 4 + data.Length];
            message[0] = (byte)'p';
            BinaryPrimitives.WriteInt32BigEndian(message.AsSpan(1), message.Length - 1);
            mechanism.CopyTo(message, 5);
            BinaryPrimitives.WriteInt32BigEndian(message.AsSpan(5 + mechanism.Length + 1), data.Length);
            data.CopyTo(message, 5 + mechanism.Length + 1 + 4);
            return message;
        }

        public byte[] FinalResponse(string serverFirst)
        {
            var attributes = Attributes(serverFirst);
            var nonce = attributes.GetValueOrDefault('r') ?? throw new InvalidDataException("SCRAM: the server sent no nonce.");
            if (!nonce.StartsWith(_clientNonce, StringComparison.Ordinal))
            {
                throw new InvalidDataException("SCRAM: the server's nonce doesn't extend the client's.");
            }

            var salt = Convert.FromBase64String(attributes.GetValueOrDefault('s') ?? throw new InvalidDataException("SCRAM: the server sent no salt."));
            if (!int.TryParse(attributes.GetValueOrDefault('i'), out var iterations) || iterations < 1 || iterations > 10_000_000)
            {
                throw new InvalidDataException("SCRAM: the server sent no usable iteration count.");
            }

            // Npgsql normalizes with NFKC (SASLprep's mapping for the passwords that matter); do the same, so both
            // ways of probing agree on every password.
            var salted = ScramPbkdf2.DeriveKey(Encoding.UTF8.GetBytes(password.Normalize(NormalizationForm.FormKC)), salt, iterations);
            var clientKey = HMACSHA256.HashData(salted, "Client Key"u8);
            var storedKey = SHA256.HashData(clientKey);
            var withoutProof = "c=biws,r=" + nonce;
            var authMessage = Encoding.UTF8.GetBytes(_clientFirstBare + "," + serverFirst + "," + withoutProof);
            var signature = HMACSHA256.HashData(storedKey, authMessage);
            for (var i = 0; i < clientKey.Length; i++)
            {
                clientKey[i] ^= signature[i];
            }

            _serverSignature = HMACSHA256.HashData(HMACSHA256.HashData(salted, "Server Key"u8), authMessage);
            CryptographicOperations.ZeroMemory(salted);
            var data = Encoding.ASCII.GetBytes(withoutProof + ",p=" + Convert.ToBase64String(clientKey));
            var message = new byte[1 + 4 + data.Length];
            message[0] = (byte)'p';
            BinaryPrimitives.WriteInt32BigEndian(message.AsSpan(1), message.Length - 1);
            data.CopyTo(message, 5);
            return message;
        }

        public void VerifyServer(string serverFinal)
        {
            var attributes = Attributes(serverFinal);
            if (attributes.TryGetValue('e', out var error))
            {
                throw new InvalidDataException($"SCRAM: the server refused the proof ({error}).");
            }

            var proof = attributes.TryGetValue('v', out var v) ? Convert.FromBase64String(v) : [];
            if (!CryptographicOperations.FixedTimeEquals(proof, _serverSignature))
            {
                throw new InvalidDataException("SCRAM: the server's signature is wrong (not the server that holds this password).");
            }

            Verified = true;
        }

        private static Dictionary<char, string> Attributes(string message) =>
            message.Split(',').Where(p => p.Length > 1 && p[1] == '=').ToDictionary(p => p[0], p => p[2..]);
    }
}
