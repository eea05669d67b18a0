using System.Text.Json;

namespace Keyturn.Domain.Policies;

/// <summary>
/// Turns policy JSON into a <see cref="PolicyDocument"/>, enforcing the IAM policy grammar: element names are
/// case-sensitive, unknown or repeated elements are rejected, and every message names the offending statement.
/// </summary>
internal static class PolicyParser
{
    private const string CurrentVersion = "2012-10-17";
    private const string LegacyVersion = "2008-10-17";

    private static readonly JsonDocumentOptions JsonOptions = new()
    {
        AllowTrailingCommas = false,
        CommentHandling = JsonCommentHandling.Disallow,
        MaxDepth = 32,
    };

    private static readonly string[] TopLevelElements = ["Version", "Id", "Statement"];

    private static readonly string[] StatementElements =
        ["Sid", "Effect", "Principal", "NotPrincipal", "Action", "NotAction", "Resource", "NotResource", "Condition"];

    private static readonly string[] PrincipalTypes = ["AWS", "Service", "Federated", "CanonicalUser"];

    public static PolicyDocument Parse(string json, PolicyKind kind)
    {
        ArgumentNullException.ThrowIfNull(json);
        if (string.IsNullOrWhiteSpace(json))
        {
            throw new PolicyParseException("The policy document is empty.");
        }

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json, JsonOptions);
        }
        catch (JsonException ex)
        {
            throw new PolicyParseException($"The policy document is not valid JSON: {ex.Message}", ex);
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw new PolicyParseException($"The policy document must be a JSON object, not {Describe(root.ValueKind)}.");
            }

            var elements = ReadElements(root, TopLevelElements, "The policy document");
            string? version = null;
            if (elements.TryGetValue("Version", out var versionElement))
            {
                version = RequireString(versionElement, "The policy document's Version");
                if (version is not (CurrentVersion or LegacyVersion))
                {
                    throw new PolicyParseException(
                        $"The policy document's Version must be \"{CurrentVersion}\" or \"{LegacyVersion}\", not \"{version}\".");
                }
            }

            string? id = null;
            if (elements.TryGetValue("Id", out var idElement))
            {
                id = RequireString(idElement, "The policy document's Id");
            }

            if (!elements.TryGetValue("Statement", out var statementElement))
            {
                throw new PolicyParseException("The policy document has no Statement element.");
            }

            var statements = ReadStatements(statementElement, kind);
            return new PolicyDocument(version, id, statements.AsReadOnly(), json.Length);
        }
    }

    private static PolicyStatement[] ReadStatements(JsonElement element, PolicyKind kind)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                return [ReadStatement(element, 0, kind)];
            case JsonValueKind.Array:
                var count = element.GetArrayLength();
                if (count == 0)
                {
                    throw new PolicyParseException("The policy document's Statement array is empty; it needs at least one statement.");
                }

                var statements = new PolicyStatement[count];
                var index = 0;
                foreach (var item in element.EnumerateArray())
                {
                    if (item.ValueKind != JsonValueKind.Object)
                    {
                        throw new PolicyParseException($"Statement {index} must be a JSON object, not {Describe(item.ValueKind)}.");
                    }

                    statements[index] = ReadStatement(item, index, kind);
                    index++;
                }

                return statements;
            default:
                throw new PolicyParseException(
                    $"The policy document's Statement must be an object or an array of objects, not {Describe(element.ValueKind)}.");
        }
    }

    private static PolicyStatement ReadStatement(JsonElement element, int index, PolicyKind kind)
    {
        // Sid is read first so every later message can name the statement by it.
        var sid = element.TryGetProperty("Sid", out var sidElement) && sidElement.ValueKind == JsonValueKind.String
            ? sidElement.GetString()
            : null;
        var label = PolicyStatement.Describe(index, sid);
        var elements = ReadElements(element, StatementElements, label);
        if (elements.TryGetValue("Sid", out sidElement))
        {
            RequireString(sidElement, $"{label}: Sid");
        }

        var effect = ReadEffect(elements, label);
        var (actions, isNotAction) = ReadActions(elements, label);
        var (resources, isNotResource) = ReadResources(elements, label, kind);
        var (principal, isNotPrincipal) = ReadPrincipal(elements, label, kind);
        var conditions = elements.TryGetValue("Condition", out var conditionElement)
            ? ReadConditions(conditionElement, label)
            : [];

        return new PolicyStatement(
            index,
            sid,
            effect,
            actions,
            isNotAction,
            resources,
            isNotResource,
            principal,
            isNotPrincipal,
            conditions.AsReadOnly());
    }

    private static PolicyEffect ReadEffect(Dictionary<string, JsonElement> elements, string label)
    {
        if (!elements.TryGetValue("Effect", out var element))
        {
            throw new PolicyParseException($"{label} has no Effect element; it must be \"Allow\" or \"Deny\".");
        }

        var value = RequireString(element, $"{label}: Effect");
        return value switch
        {
            "Allow" => PolicyEffect.Allow,
            "Deny" => PolicyEffect.Deny,
            _ => throw new PolicyParseException($"{label}: Effect must be \"Allow\" or \"Deny\" (case-sensitive), not \"{value}\"."),
        };
    }

    private static (IReadOnlyList<string> Actions, bool IsNot) ReadActions(Dictionary<string, JsonElement> elements, string label)
    {
        var (element, isNot) = ExactlyOne(elements, "Action", "NotAction", label, required: true);
        var name = isNot ? "NotAction" : "Action";
        var values = ReadStringList(element!.Value, $"{label}: {name}");
        foreach (var value in values)
        {
            if (!IsWellFormedAction(value))
            {
                throw new PolicyParseException(
                    $"{label}: {name} \"{value}\" must be \"*\" or a service prefix and action such as \"secretsmanager:GetSecretValue\".");
            }
        }

        return (values, isNot);
    }

    private static (IReadOnlyList<string>? Resources, bool IsNot) ReadResources(
        Dictionary<string, JsonElement> elements, string label, PolicyKind kind)
    {
        var (element, isNot) = ExactlyOne(elements, "Resource", "NotResource", label, required: kind == PolicyKind.Identity);
        if (element is null)
        {
            return (null, false);
        }

        var name = isNot ? "NotResource" : "Resource";
        var values = ReadStringList(element.Value, $"{label}: {name}");
        foreach (var value in values)
        {
            if (value != "*" && !value.StartsWith("arn:", StringComparison.Ordinal))
            {
                throw new PolicyParseException($"{label}: {name} \"{value}\" must be \"*\" or an ARN starting with \"arn:\".");
            }
        }

        return (values, isNot);
    }

    private static (PolicyPrincipal? Principal, bool IsNot) ReadPrincipal(
        Dictionary<string, JsonElement> elements, string label, PolicyKind kind)
    {
        var (element, isNot) = ExactlyOne(elements, "Principal", "NotPrincipal", label, required: false);
        var name = isNot ? "NotPrincipal" : "Principal";
        if (element is null)
        {
            if (kind == PolicyKind.Resource)
            {
                throw new PolicyParseException($"{label} has no Principal or NotPrincipal element; resource policies must say whom they apply to.");
            }

            return (null, false);
        }

        if (kind == PolicyKind.Identity)
        {
            throw new PolicyParseException(
                $"{label}: identity policies cannot have a {name} element; the principal is the access key the policy is attached to.");
        }

        var value = element.Value;
        if (value.ValueKind == JsonValueKind.String)
        {
            return value.GetString() == "*"
                ? (new PolicyPrincipal(true, [], [], [], []), isNot)
                : throw new PolicyParseException($"{label}: {name} must be \"*\" or an object such as {{\"AWS\": \"123456789012\"}}.");
        }

        if (value.ValueKind != JsonValueKind.Object)
        {
            throw new PolicyParseException(
                $"{label}: {name} must be \"*\" or an object such as {{\"AWS\": \"123456789012\"}}, not {Describe(value.ValueKind)}.");
        }

        var types = ReadElements(value, PrincipalTypes, $"{label}: {name}");
        if (types.Count == 0)
        {
            throw new PolicyParseException($"{label}: {name} is an empty object; name at least one principal.");
        }

        IReadOnlyList<string> Values(string type) =>
            types.TryGetValue(type, out var list) ? ReadStringList(list, $"{label}: {name}.{type}") : [];

        var aws = Values("AWS");
        foreach (var principal in aws)
        {
            // IAM has no partial wildcards in principals: "*" alone, or an exact ID or ARN.
            if (principal != "*" && principal.AsSpan().IndexOfAny('*', '?') >= 0)
            {
                throw new PolicyParseException(
                    $"{label}: {name} value \"{principal}\" has a wildcard; only \"*\" on its own is allowed in a principal.");
            }
        }

        return (new PolicyPrincipal(false, aws, Values("Service"), Values("Federated"), Values("CanonicalUser")), isNot);
    }

    private static List<PolicyCondition> ReadConditions(JsonElement element, string label)
    {
        if (element.ValueKind != JsonValueKind.Object)
        {
            throw new PolicyParseException($"{label}: Condition must be an object of operators, not {Describe(element.ValueKind)}.");
        }

        var conditions = new List<PolicyCondition>();
        var operators = new HashSet<string>(StringComparer.Ordinal);
        foreach (var operatorProperty in element.EnumerateObject())
        {
            var operatorName = operatorProperty.Name;
            if (!operators.Add(operatorName))
            {
                throw new PolicyParseException($"{label}: Condition repeats the operator \"{operatorName}\".");
            }

            if (!ConditionOperator.TryParse(operatorName, out var parsed, out var error))
            {
                throw new PolicyParseException($"{label}: Condition has an {error}.");
            }

            if (operatorProperty.Value.ValueKind != JsonValueKind.Object)
            {
                throw new PolicyParseException(
                    $"{label}: Condition operator \"{operatorName}\" must map condition keys to values, not be {Describe(operatorProperty.Value.ValueKind)}.");
            }

            var keys = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
            foreach (var keyProperty in operatorProperty.Value.EnumerateObject())
            {
                var key = keyProperty.Name;
                if (key.Length == 0 || !keys.Add(key))
                {
                    throw new PolicyParseException(
                        key.Length == 0
                            ? $"{label}: Condition operator \"{operatorName}\" has an empty condition key."
                            : $"{label}: Condition operator \"{operatorName}\" repeats the key \"{key}\".");
                }

                var values = ReadConditionValues(keyProperty.Value, $"{label}: Condition {operatorName} {key}");
                foreach (var value in values)
                {
                    if (!ConditionEvaluator.IsValidPolicyValue(parsed!.Kind, value))
                    {
                        throw new PolicyParseException(
                            $"{label}: Condition {operatorName} {key} has the value \"{value}\", which is not valid for that operator.");
                    }
                }

                conditions.Add(new PolicyCondition(operatorName, parsed!, key, values.AsReadOnly()));
            }
        }

        return conditions;
    }

    private static string[] ReadConditionValues(JsonElement element, string what)
    {
        if (element.ValueKind == JsonValueKind.Array)
        {
            var values = new List<string>(element.GetArrayLength());
            foreach (var item in element.EnumerateArray())
            {
                values.Add(ReadConditionScalar(item, what));
            }

            return [.. values];
        }

        return [ReadConditionScalar(element, what)];
    }

    // Condition values may be written as strings, numbers or booleans; IAM compares their text.
    private static string ReadConditionScalar(JsonElement element, string what) => element.ValueKind switch
    {
        JsonValueKind.String => element.GetString()!,
        JsonValueKind.Number => element.GetRawText(),
        JsonValueKind.True => "true",
        JsonValueKind.False => "false",
        _ => throw new PolicyParseException($"{what}: values must be strings, numbers or booleans, not {Describe(element.ValueKind)}."),
    };

    private static (JsonElement? Element, bool IsNot) ExactlyOne(
        Dictionary<string, JsonElement> elements, string positive, string negative, string label, bool required)
    {
        var hasPositive = elements.TryGetValue(positive, out var positiveElement);
        var hasNegative = elements.TryGetValue(negative, out var negativeElement);
        if (hasPositive && hasNegative)
        {
            throw new PolicyParseException($"{label} has both {positive} and {negative}; use exactly one of them.");
        }

        if (!hasPositive && !hasNegative)
        {
            return required
                ? throw new PolicyParseException($"{label} has neither {positive} nor {negative}; exactly one is required.")
                : (null, false);
        }

        return hasPositive ? (positiveElement, false) : (negativeElement, true);
    }

    /// <summary>Collects an object's properties, rejecting unknown and repeated names (JSON allows both; IAM does not).</summary>
    private static Dictionary<string, JsonElement> ReadElements(JsonElement element, string[] allowed, string what)
    {
        var result = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
        foreach (var property in element.EnumerateObject())
        {
            if (!allowed.Contains(property.Name, StringComparer.Ordinal))
            {
                var hint = allowed.FirstOrDefault(a => string.Equals(a, property.Name, StringComparison.OrdinalIgnoreCase));
                throw new PolicyParseException(hint is null
                    ? $"{what} has an unknown element \"{property.Name}\"; expected one of {string.Join(", ", allowed)}."
                    : $"{what} has an unknown element \"{property.Name}\"; element names are case-sensitive (did you mean \"{hint}\"?).");
            }

            if (!result.TryAdd(property.Name, property.Value))
            {
                throw new PolicyParseException($"{what} repeats the element \"{property.Name}\".");
            }
        }

        return result;
    }

    private static IReadOnlyList<string> ReadStringList(JsonElement element, string what)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.String:
                return [RequireNonEmpty(element.GetString()!, what)];
            case JsonValueKind.Array:
                if (element.GetArrayLength() == 0)
                {
                    throw new PolicyParseException($"{what} is an empty array; list at least one value.");
                }

                var values = new List<string>(element.GetArrayLength());
                foreach (var item in element.EnumerateArray())
                {
                    if (item.ValueKind != JsonValueKind.String)
                    {
                        throw new PolicyParseException($"{what} must contain only strings, not {Describe(item.ValueKind)}.");
                    }

                    values.Add(RequireNonEmpty(item.GetString()!, what));
                }

                return values.AsReadOnly();
            default:
                throw new PolicyParseException($"{what} must be a string or an array of strings, not {Describe(element.ValueKind)}.");
        }
    }

    private static string RequireString(JsonElement element, string what) =>
        element.ValueKind == JsonValueKind.String
            ? element.GetString()!
            : throw new PolicyParseException($"{what} must be a string, not {Describe(element.ValueKind)}.");

    private static string RequireNonEmpty(string value, string what) =>
        value.Length > 0 ? value : throw new PolicyParseException($"{what} contains an empty string.");

    /// <summary>"*", or "service:pattern" with a plain service prefix.</summary>
    private static bool IsWellFormedAction(string value)
    {
        if (value == "*")
        {
            return true;
        }

        var colon = value.IndexOf(':', StringComparison.Ordinal);
        if (colon <= 0 || colon == value.Length - 1 || value.IndexOf(':', colon + 1) >= 0)
        {
            return false;
        }

        return value[..colon].All(c => char.IsAsciiLetterOrDigit(c) || c == '-');
    }

    private static string Describe(JsonValueKind kind) => kind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        JsonValueKind.Null => "null",
        _ => "missing",
    };
}
