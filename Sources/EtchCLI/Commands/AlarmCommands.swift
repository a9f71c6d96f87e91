import EtchGateway
import EtchOutput

/// `etch alarm list|disarm`: the cluster's alarms (NOSPACE when the backend quota is exceeded, CORRUPT).
enum AlarmCommands {
    static let spec = CommandSpec.group(
        "alarm", summary: "Alarm related commands",
        description: "Lists and disarms the cluster's alarms. A NOSPACE alarm (the database reached --quota-backend-bytes) makes the cluster refuse writes until space is freed (compaction, then defrag) and the alarm is disarmed.",
        [disarm, list])

    static let disarm = CommandSpec(
        name: "disarm", summary: "Disarms all alarms", arguments: "",
        description: "Lists the alarms, deactivates each and prints the ones it deactivated (-w simple: `memberID:N alarm:NOSPACE `). No fields output: etcdctl's crashes on this reply, which never has a header, so etch refuses -w fields before disarming anything.",
        examples: [("etch alarm disarm", "disarm every alarm, after compaction and defrag freed space"),
                   ("etch alarm disarm -w jsonl", "one line per alarm disarmed")],
        flags: [],
        run: runDisarm)

    static let list = CommandSpec(
        name: "list", summary: "Lists all alarms", arguments: "",
        description: "Prints one line per alarm (-w simple: `memberID:N alarm:NOSPACE `, as Go prints the message), nothing when there is none. -w fields needs a reply with a header, which etcd 3.4 does not send for alarms: etch then says so (etcdctl crashes).",
        examples: [("etch alarm list", "the active alarms"),
                   ("etch alarm list -w jsonl | jq -r .alarm", "the alarm types, one per line")],
        flags: [],
        run: { ctx in
            guard ctx.arguments.positionals.isEmpty else { throw CLIError(.badArgs, "alarm list command accepts no arguments") }
            return try ctx.unary(AlarmRequest(action: .get), MaintenanceOutput.alarmList)
        })

    static func runDisarm(_ ctx: Context) throws -> ExitCode {
        guard ctx.arguments.positionals.isEmpty else { throw CLIError(.badArgs, "alarm disarm command accepts no arguments") }
        let output = MaintenanceOutput.alarmDisarm
        let format = try ctx.format(for: output)
        let client = try ctx.makeClient()
        let deadline = CommandDeadline(milliseconds: ctx.commandTimeoutMilliseconds)
        // As etcd's client: list, then deactivate each alarm listed; the reply is the alarms deactivated.
        var disarmed = AlarmResponse()
        for alarm in try client.unary(AlarmRequest(action: .get)).alarms {
            deadline.limit(client)
            let reply = try client.unary(AlarmRequest(action: .deactivate, memberID: alarm.memberID, alarm: alarm.alarm))
            disarmed.alarms += reply.alarms
        }
        try ctx.emit(disarmed, output, as: format)
        return .success
    }
}
