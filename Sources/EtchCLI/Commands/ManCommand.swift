/// `etch __man`: prints the man page (`make man` writes it to man/etch.1).
enum ManCommand {
    static let spec = CommandSpec(
        name: "__man",
        summary: "Prints etch's man page (mdoc), generated from the command descriptions",
        arguments: "",
        description: "Prints the manual page in mdoc format, generated from the same descriptions as the help text; make man writes it to man/etch.1.",
        examples: [("etch __man > man/etch.1", "regenerate the checked-in man page")],
        flags: [],
        hidden: true
    )

    static func run(_ ctx: Context) throws -> ExitCode {
        ctx.stdout.append(ManPage.render())
        return .success
    }
}
