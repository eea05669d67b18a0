namespace Keyturn.Domain.Doctor;

/// <summary>The label states of the recovery guide (§5), A–J.</summary>
public enum LabelState
{
    /// <summary>A: AWSCURRENT works; AWSPENDING absent or on the same version.</summary>
    Healthy,

    /// <summary>B: AWSPENDING on a version without a value (createSecret never finished).</summary>
    EmptyPending,

    /// <summary>C: AWSPENDING written but never applied to the database.</summary>
    PendingNotApplied,

    /// <summary>D: the database has the pending password, the labels never moved (single user).</summary>
    DatabaseAhead,

    /// <summary>D′: alternating users, both log in: the rotation only needs finishing.</summary>
    PendingReady,

    /// <summary>E: AWSCURRENT moved to a password the database never got; AWSPREVIOUS still works.</summary>
    LabelsAhead,

    /// <summary>F with a survivor: an older (deprecated) version is the one that works.</summary>
    OrphanWorks,

    /// <summary>F: no stored credential logs in.</summary>
    NothingWorks,

    /// <summary>J: no version holds AWSCURRENT.</summary>
    NoCurrent,

    /// <summary>A deciding probe could not decide (network, TLS, unknown database): nothing may change.</summary>
    Undecidable,
}

public sealed record Diagnosis(LabelState State, string Verdict, IReadOnlyList<Finding> Findings, IReadOnlyList<RepairAction> Plan)
{
    public bool Healthy => State == LabelState.Healthy && Findings.All(f => f.Severity <= Severity.Info);
}
