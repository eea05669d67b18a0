using Keyturn.IntegrationTests.Infrastructure;

namespace Keyturn.IntegrationTests;

/// <summary>
/// boto3 (Debian's boto3 1.26 / botocore 1.29) driving the server the way applications do. Each scenario is a
/// function in a script under <c>Scripts/boto3_*.py</c>; a script exits non-zero at the first broken expectation and
/// prints what was expected and what came back.
/// </summary>
[Collection(ServerCollection.Name)]
public sealed class Boto3Tests(ServerFixture fixture)
{
    private const string Python = "/usr/bin/python3";
    private const string Helper = "boto3_common.py";

    private static readonly string ScriptDirectory = Path.Combine(AppContext.BaseDirectory, "Scripts");

    /// <summary>Every scenario of every script; <see cref="ScenarioTable_ListsEveryScriptScenario"/> keeps it complete.</summary>
    public static TheoryData<string, string> Scenarios => new()
    {
        { "boto3_secrets.py", "binary_round_trip" },
        { "boto3_secrets.py", "create_with_value_and_get" },
        { "boto3_secrets.py", "create_without_value" },
        { "boto3_secrets.py", "last_accessed_date" },
        { "boto3_secrets.py", "list_secrets_entry_shape" },
        { "boto3_secrets.py", "names_ids_and_limits" },
        { "boto3_secrets.py", "put_secret_value_without_value" },
        { "boto3_secrets.py", "tags" },
        { "boto3_secrets.py", "update_secret_shapes" },
        { "boto3_labels.py", "case21_22_put_moves_current_and_deprecates" },
        { "boto3_labels.py", "case23_update_secret_versions" },
        { "boto3_labels.py", "case24_27_pending_cycle" },
        { "boto3_labels.py", "case26_put_clears_pending_on_old_current" },
        { "boto3_labels.py", "case28_custom_labels_accepted" },
        { "boto3_labels.py", "case29_custom_labels_survive_moves" },
        { "boto3_labels.py", "case30_31_label_sets" },
        { "boto3_labels.py", "case32_remove_custom_label_without_move" },
        { "boto3_labels.py", "rollback_moves_previous_back" },
        { "boto3_idempotency.py", "binary_retry" },
        { "boto3_idempotency.py", "case06_07_create_retry" },
        { "boto3_idempotency.py", "case34_put_and_update_retry" },
        { "boto3_idempotency.py", "retry_of_an_older_version" },
        { "boto3_errors.py", "case03_empty_secret_has_no_current" },
        { "boto3_errors.py", "case05_create_existing_name" },
        { "boto3_errors.py", "case07_create_same_token_other_value" },
        { "boto3_errors.py", "case08_create_name_scheduled_for_deletion" },
        { "boto3_errors.py", "case10_invalid_names" },
        { "boto3_errors.py", "case14_unknown_secret" },
        { "boto3_errors.py", "case15_no_previous_on_one_version_secret" },
        { "boto3_errors.py", "case16_unknown_version_id" },
        { "boto3_errors.py", "case17_version_id_and_stage_disagree" },
        { "boto3_errors.py", "case20_read_of_secret_marked_for_deletion" },
        { "boto3_errors.py", "case33_move_current_without_remove" },
        { "boto3_errors.py", "case35_twenty_labels_per_secret" },
        { "boto3_errors.py", "case42_tags_on_secret_marked_for_deletion" },
        { "boto3_errors.py", "update_secret_version_stage_refusals" },
        { "boto3_errors.py", "writes_on_secret_marked_for_deletion" },
        { "boto3_pagination.py", "list_secret_version_ids_pages" },
        { "boto3_pagination.py", "list_secrets_max_items_resume" },
        { "boto3_pagination.py", "list_secrets_max_results_by_hand" },
        { "boto3_pagination.py", "list_secrets_paginator" },
        { "boto3_list_filters.py", "case56_name_and_description" },
        { "boto3_list_filters.py", "include_planned_deletion" },
        { "boto3_list_filters.py", "tags_and_all" },
        { "boto3_delete_restore.py", "case38_delete_and_restore" },
        { "boto3_delete_restore.py", "case39_force_delete_scheduled_then_recreate" },
        { "boto3_delete_restore.py", "case40_force_delete_nonexistent" },
        { "boto3_delete_restore.py", "case41_invalid_deletion_parameters" },
        { "boto3_delete_restore.py", "force_delete_live_secret" },
        { "boto3_random_password.py", "case55_default_password" },
        { "boto3_random_password.py", "case55_length_and_excluded_characters" },
        { "boto3_random_password.py", "excluded_types" },
        { "boto3_resource_policy.py", "malformed_policy" },
        { "boto3_resource_policy.py", "put_get_delete" },
        { "boto3_resource_policy.py", "unknown_secret" },
        { "boto3_resource_policy.py", "validate" },
        { "boto3_rotation_errors.py", "cancel_rotate_never_configured" },
        { "boto3_rotation_errors.py", "case44_no_function_configured" },
        { "boto3_rotation_errors.py", "case45_function_not_invokable" },
        { "boto3_rotation_errors.py", "rotate_unknown_or_deleted_secret" },
    };

    [Theory]
    [MemberData(nameof(Scenarios))]
    public async Task Boto3Scenario_BehavesAsSpecified(string script, string scenario)
    {
        var result = await RunAsync(script, scenario);

        Assert.True(result.ExitCode == 0, $"python3 {script} {scenario} failed:\n{result}");
        Assert.Contains($"ok {scenario}", result.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ScenarioTable_ListsEveryScriptScenario()
    {
        var scripts = Directory.GetFiles(ScriptDirectory, "boto3_*.py").Select(Path.GetFileName).OfType<string>()
            .Where(name => name != Helper).Order(StringComparer.Ordinal).ToList();
        var table = Scenarios.Select(row => ((string)row[0], (string)row[1])).ToList();
        Assert.Equal(scripts, table.Select(row => row.Item1).Distinct().Order(StringComparer.Ordinal));

        foreach (var script in scripts)
        {
            var listed = await RunAsync(script, "--list");
            Assert.True(listed.ExitCode == 0, $"python3 {script} --list failed:\n{listed}");
            var inScript = listed.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Order(StringComparer.Ordinal);
            var inTable = table.Where(row => row.Item1 == script).Select(row => row.Item2).Order(StringComparer.Ordinal);
            Assert.Equal(inScript, inTable);
        }
    }

    private Task<ToolResult> RunAsync(string script, string argument) =>
        ExternalTool.RunAsync(Python, [Path.Combine(ScriptDirectory, script), argument], fixture.Server,
            new Dictionary<string, string> { ["PYTHONDONTWRITEBYTECODE"] = "1" }, TimeSpan.FromMinutes(3));
}
