namespace Keyturn.Application.Ports;

/// <summary>
/// The rotation functions Keyturn can invoke, named like Lambda functions. RotateSecret refuses a
/// function this catalog doesn't know, exactly as AWS refuses a Lambda it can't invoke.
/// </summary>
public interface IRotationFunctionCatalog
{
    bool CanInvoke(string functionArnOrName);
}
