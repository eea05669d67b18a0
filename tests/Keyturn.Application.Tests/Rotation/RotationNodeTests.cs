using Keyturn.Application.Rotation;

namespace Keyturn.Application.Tests.Rotation;

/// <summary>Lease owner ids are unique across the cluster, and only an owner of this machine is ever judged dead from here.</summary>
public sealed class RotationNodeTests
{
    private const string Machine = "boot-7.4026531836";

    // This node: host-1, pid 100; processes 200 (gone) and 300 (running) exist on its machine.
    private static readonly RotationNode This = new("host-1", Machine, 100, "self", pid => pid == 300);

    public static TheoryData<string, string, bool> Owners => new()
    {
        { "an owner on this machine whose process has exited is gone", $"host-1/{Machine}/200/x", true },
        { "an owner on this machine whose process still runs is not gone", $"host-1/{Machine}/300/x", false },
        { "another engine of this very process is not gone", $"host-1/{Machine}/100/other", false },
        { "an owner on another host is not gone, whatever its pid", $"host-2/{Machine}/200/x", false },
        { "an owner of another boot of this host is not gone", "host-1/boot-6.4026531836/200/x", false },
        { "an owner in another pid namespace (another container) is not gone", "host-1/boot-7.4026532000/200/x", false },
        { "an owner id of the old host/pid/nonce form is not gone", "host-1/200/abcdef12", false },
        { "an owner id that is not ours at all is not gone", "other-node", false },
    };

    [Theory]
    [MemberData(nameof(Owners))]
    public void OwnerIsGone(string because, string owner, bool gone) => Assert.True(This.OwnerIsGone(owner) == gone, because);

    [Fact]
    public void A_node_that_cannot_tell_its_machine_judges_no_owner_gone()
    {
        var blind = new RotationNode("host-1", "", 100, "self", _ => false);

        Assert.False(blind.OwnerIsGone("host-1//200/x"));
    }

    [Fact]
    public void Two_engines_of_one_process_get_different_ids_on_the_same_machine()
    {
        var first = RotationNode.ForThisProcess();
        var second = RotationNode.ForThisProcess();

        Assert.NotEqual(first.Id, second.Id);
        Assert.Equal((first.Host, first.Machine, first.ProcessId), (second.Host, second.Machine, second.ProcessId));
        Assert.StartsWith($"{Environment.MachineName}/", first.Id, StringComparison.Ordinal);
        Assert.False(first.OwnerIsGone(second.Id));
    }
}
