using Keyturn.Cli;

return await CliApplication.RunAsync(args).ConfigureAwait(false);
