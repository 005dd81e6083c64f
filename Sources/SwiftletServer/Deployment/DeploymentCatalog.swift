// The deployments a server can run: the `<name>.json` manifests of one directory, looked up by name.
import Foundation

/// The manifests in a directory (`deployments/` by default), by name.
public struct DeploymentCatalog: Sendable {
    public static let defaultDirectory = "deployments"

    public let directory: String
    /// The deployment names (file names without `.json`), sorted.
    public let names: [String]

    /// Lists `directory`'s manifests without reading them.
    public init(directory: String = DeploymentCatalog.defaultDirectory) throws {
        guard let files = try? FileManager.default.contentsOfDirectory(atPath: directory) else {
            throw DeploymentCatalogError.noDirectory(directory)
        }
        self.directory = directory
        names = files.filter { $0.hasSuffix(".json") && !$0.hasPrefix(".") }.map { String($0.dropLast(5)) }.sorted()
    }

    /// The manifest of deployment `name`, read and checked; its `name` must match its file name.
    public func manifest(named name: String) throws -> DeploymentManifest {
        guard names.contains(name) else { throw DeploymentCatalogError.unknown(name, available: names, directory: directory) }
        let path = (directory as NSString).appendingPathComponent(name + ".json")
        let manifest = try DeploymentManifest.load(path: path)
        guard manifest.name == name else {
            throw DeploymentManifestError(file: path, field: "name",
                                          message: "\"\(manifest.name)\" differs from the file name \"\(name)\"")
        }
        return manifest
    }

    /// Every manifest, read and checked (the first bad one throws).
    public func all() throws -> [DeploymentManifest] { try names.map(manifest(named:)) }
}

/// A deployment that cannot be found.
public enum DeploymentCatalogError: Error, Sendable, Equatable, CustomStringConvertible {
    case noDirectory(String)
    case unknown(String, available: [String], directory: String)

    public var description: String {
        switch self {
        case .noDirectory(let d): return "no deployments directory at \(d)"
        case let .unknown(name, available, directory):
            let list = available.isEmpty ? "none" : available.joined(separator: ", ")
            return "unknown deployment \"\(name)\" in \(directory) (available: \(list))"
        }
    }
}
