/// etcd's auth service (`/v3/auth/*`): the messages of rpc.proto and auth.proto, field numbers as there.

public struct AuthEnableRequest: EmptyRequest {
    public typealias Response = HeaderOnlyResponse
    public static let path = "/auth/enable"
    public init() {}
}

public struct AuthDisableRequest: EmptyRequest {
    public typealias Response = HeaderOnlyResponse
    public static let path = "/auth/disable"
    public init() {}
}

/// etcd 3.5's `/auth/status`.
public struct AuthStatusRequest: EmptyRequest {
    public typealias Response = AuthStatusResponse
    public static let path = "/auth/status"
    public init() {}
}

public struct AuthStatusResponse: Codable, Sendable, Equatable {
    public var header: ResponseHeader?
    public var enabled = false
    public var authRevision: UInt64 = 0
    enum CodingKeys: Int, CodingKey { case header = 1, enabled, authRevision }
}

public struct UserAddOptions: Codable, Sendable, Equatable {
    public var no_password = false
    enum CodingKeys: Int, CodingKey { case no_password = 1 }
    public init(noPassword: Bool) { no_password = noPassword }
}

public struct AuthUserAddRequest: UnaryRPC {
    public typealias Response = HeaderOnlyResponse
    public static let path = "/auth/user/add"
    public var name: String
    public var password: String
    public var options: UserAddOptions?
    enum CodingKeys: Int, CodingKey { case name = 1, password, options }
    public init(name: String, password: String, noPassword: Bool) {
        self.name = name
        self.password = password
        options = noPassword ? UserAddOptions(noPassword: true) : nil
    }
}

public struct AuthUserGetRequest: UnaryRPC {
    public typealias Response = AuthUserGetResponse
    public static let path = "/auth/user/get"
    public var name: String
    enum CodingKeys: Int, CodingKey { case name = 1 }
    public init(name: String) { self.name = name }
}

public struct AuthUserGetResponse: Codable, Sendable, Equatable {
    public var header: ResponseHeader?
    public var roles: [String] = []
    enum CodingKeys: Int, CodingKey { case header = 1, roles }
}

public struct AuthUserListRequest: EmptyRequest {
    public typealias Response = AuthUserListResponse
    public static let path = "/auth/user/list"
    public init() {}
}

public struct AuthUserListResponse: Codable, Sendable, Equatable {
    public var header: ResponseHeader?
    public var users: [String] = []
    enum CodingKeys: Int, CodingKey { case header = 1, users }
}

public struct AuthUserDeleteRequest: UnaryRPC {
    public typealias Response = HeaderOnlyResponse
    public static let path = "/auth/user/delete"
    public var name: String
    enum CodingKeys: Int, CodingKey { case name = 1 }
    public init(name: String) { self.name = name }
}

public struct AuthUserChangePasswordRequest: UnaryRPC {
    public typealias Response = HeaderOnlyResponse
    public static let path = "/auth/user/changepw"
    public var name: String
    public var password: String
    enum CodingKeys: Int, CodingKey { case name = 1, password }
    public init(name: String, password: String) {
        self.name = name
        self.password = password
    }
}

public struct AuthUserGrantRoleRequest: UnaryRPC {
    public typealias Response = HeaderOnlyResponse
    public static let path = "/auth/user/grant"
    public var user: String
    public var role: String
    enum CodingKeys: Int, CodingKey { case user = 1, role }
    public init(user: String, role: String) {
        self.user = user
        self.role = role
    }
}

public struct AuthUserRevokeRoleRequest: UnaryRPC {
    public typealias Response = HeaderOnlyResponse
    public static let path = "/auth/user/revoke"
    public var name: String
    public var role: String
    enum CodingKeys: Int, CodingKey { case name = 1, role }
    public init(name: String, role: String) {
        self.name = name
        self.role = role
    }
}

public struct AuthRoleAddRequest: UnaryRPC {
    public typealias Response = HeaderOnlyResponse
    public static let path = "/auth/role/add"
    public var name: String
    enum CodingKeys: Int, CodingKey { case name = 1 }
    public init(name: String) { self.name = name }
}

public struct AuthRoleGetRequest: UnaryRPC {
    public typealias Response = AuthRoleGetResponse
    public static let path = "/auth/role/get"
    public var role: String
    enum CodingKeys: Int, CodingKey { case role = 1 }
    public init(role: String) { self.role = role }
}

public struct PermissionType: ProtoEnum {
    public var rawValue: Int32
    public init(rawValue: Int32) { self.rawValue = rawValue }
    public static let names: [Int32: String] = [0: "READ", 1: "WRITE", 2: "READWRITE"]
    public static let read = PermissionType(rawValue: 0)
    public static let write = PermissionType(rawValue: 1)
    public static let readwrite = PermissionType(rawValue: 2)
}

public struct Permission: Codable, Sendable, Equatable {
    public var permType = PermissionType.read
    public var key: [UInt8] = []
    public var range_end: [UInt8] = []
    enum CodingKeys: Int, CodingKey { case permType = 1, key, range_end }
    public init(permType: PermissionType, key: [UInt8], rangeEnd: [UInt8]) {
        self.permType = permType
        self.key = key
        range_end = rangeEnd
    }
}

public struct AuthRoleGetResponse: Codable, Sendable, Equatable {
    public var header: ResponseHeader?
    public var perm: [Permission] = []
    enum CodingKeys: Int, CodingKey { case header = 1, perm }
}

public struct AuthRoleListRequest: EmptyRequest {
    public typealias Response = AuthRoleListResponse
    public static let path = "/auth/role/list"
    public init() {}
}

public struct AuthRoleListResponse: Codable, Sendable, Equatable {
    public var header: ResponseHeader?
    public var roles: [String] = []
    enum CodingKeys: Int, CodingKey { case header = 1, roles }
}

public struct AuthRoleDeleteRequest: UnaryRPC {
    public typealias Response = HeaderOnlyResponse
    public static let path = "/auth/role/delete"
    public var role: String
    enum CodingKeys: Int, CodingKey { case role = 1 }
    public init(role: String) { self.role = role }
}

public struct AuthRoleGrantPermissionRequest: UnaryRPC {
    public typealias Response = HeaderOnlyResponse
    public static let path = "/auth/role/grant"
    public var name: String
    public var perm: Permission
    enum CodingKeys: Int, CodingKey { case name = 1, perm }
    public init(name: String, perm: Permission) {
        self.name = name
        self.perm = perm
    }
}

public struct AuthRoleRevokePermissionRequest: UnaryRPC {
    public typealias Response = HeaderOnlyResponse
    public static let path = "/auth/role/revoke"
    public var role: String
    public var key: [UInt8]
    public var range_end: [UInt8]
    enum CodingKeys: Int, CodingKey { case role = 1, key, range_end }
    public init(role: String, key: [UInt8], rangeEnd: [UInt8]) {
        self.role = role
        self.key = key
        range_end = rangeEnd
    }
}
