/// member/snap/db's membership and consistent index (to be written with the bbolt writer).
enum MemberDB {
    static func rewrite(_ path: String, members: [Member], consistentIndex: UInt64) throws(MemberDataError) {}
}
