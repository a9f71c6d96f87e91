import Foundation
import PackagePlugin

/// Generates `BuildInfo.swift` (the git commit etch is built from) before every build, so `etch version` can
/// print it. Runs `git` through `/bin/sh` and rewrites the file only when the commit changed, so an unchanged
/// tree costs no recompilation. Outside a git checkout, or without git, the commit is "unknown".
@main
struct BuildInfoPlugin: BuildToolPlugin {
    /// $1: the package directory, $2: the output directory.
    static let script = #"""
    dir=$1 out=$2/BuildInfo.swift
    commit=unknown
    top=$(git -C "$dir" rev-parse --show-toplevel 2>/dev/null) || top=
    if [ -n "$top" ] && [ "$(cd "$top" && pwd -P)" = "$(cd "$dir" && pwd -P)" ]; then
        commit=$(git -C "$dir" rev-parse --short=12 HEAD 2>/dev/null) || commit=unknown
        if [ -n "$(git -C "$dir" status --porcelain --untracked-files=no 2>/dev/null)" ]; then commit="$commit-dirty"; fi
    fi
    text=$(printf '%s\n' "/// Generated before each build by the BuildInfo plugin (Plugins/BuildInfo); not checked in." \
        "enum BuildInfo {" "    /// The git commit etch was built from (\"-dirty\" with uncommitted changes), or \"unknown\"." \
        "    static let gitCommit = \"$commit\"" "}")
    mkdir -p "$2"
    if [ ! -f "$out" ] || [ "$(cat "$out")" != "$text" ]; then printf '%s\n' "$text" > "$out"; fi
    """#

    func createBuildCommands(context: PluginContext, target: Target) throws -> [Command] {
        let output = context.pluginWorkDirectoryURL.appendingPathComponent("Generated")
        return [
            .prebuildCommand(
                displayName: "Recording the git commit for etch version",
                executable: URL(fileURLWithPath: "/bin/sh"),
                arguments: ["-c", Self.script, "sh", context.package.directoryURL.path, output.path],
                outputFilesDirectory: output
            ),
        ]
    }
}
