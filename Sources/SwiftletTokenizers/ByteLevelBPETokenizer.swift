// GPT-2 style byte-level BPE (tokenizer.ggml.model "gpt2"): text is split into words by the
// pre-tokenizer, every byte of a word becomes a printable stand-in character (GPT-2's bytes_to_unicode),
// and adjacent symbols are merged lowest merge rank first, as llama.cpp's llm_tokenizer_bpe does.
import SwiftletFormats

/// Byte-level BPE over a GGUF vocabulary and merge list.
public struct ByteLevelBPETokenizer: Tokenizer {
    let vocab: Vocabulary
    let preTokenizer: PreTokenizer
    /// Vocabulary texts (ids below `vocab.count`) plus merge halves that are not tokens themselves.
    let symbols: ByteStringTable
    let merges: BPEMerges
    /// Symbol of each single byte.
    let byteSymbol: [Int32]
    /// GPT-2 stand-in code point -> byte, or -1 (code points below 0x144).
    let standInToByte: [Int16]

    public var vocabularySize: Int { vocab.count }
    public var bos: Int32? { vocab.bos }
    public var eos: Int32? { vocab.eos }
    public var eot: Int32? { vocab.eot }
    public var addBOS: Bool { vocab.addBOS }
    public var endOfGeneration: Set<Int32> { vocab.endOfGeneration }
    public var stripsLeadingSpace: Bool { false }

    init(gguf: GGUFFile, preName: String) throws {
        guard let pre = PreTokenizer.named(preName) else {
            throw TokenizerError("\(gguf.path): unsupported pre-tokenizer tokenizer.ggml.pre = \"\(preName)\" "
                + "(supported: \(PreTokenizer.supportedNames.joined(separator: ", ")))")
        }
        try self.init(vocab: Vocabulary(gguf: gguf, kind: .bytePairEncoding, defaultAddBOS: pre.defaultAddBOS),
                      preTokenizer: pre, merges: gguf.metadata[Vocabulary.key("merges")]?.array, path: gguf.path)
    }

    init(vocab: Vocabulary, preTokenizer: PreTokenizer, merges mergeValues: [GGUFValue]?, path: String) throws {
        self.vocab = vocab
        self.preTokenizer = preTokenizer
        guard let mergeValues else { throw TokenizerError("\(path): no tokenizer.ggml.merges in the metadata") }

        let (toStandIn, fromStandIn) = Self.byteStandIns()
        standInToByte = fromStandIn
        var symbols = vocab.table
        byteSymbol = toStandIn.map { symbols.intern(Array(Unicode.Scalar($0)!.utf8Bytes)) }

        var merges = BPEMerges(capacity: mergeValues.count)
        var joined: [UInt8] = []
        for (rank, v) in mergeValues.enumerated() {
            guard case .string(var s) = v else { continue }
            s.withUTF8 { m in
                // "left right", split at the first space after the first byte.
                guard m.count > 1, let sp = m[1...].firstIndex(of: 0x20) else { return }
                let left = symbols.intern(UnsafeBufferPointer(rebasing: m[..<sp]))
                let right = symbols.intern(UnsafeBufferPointer(rebasing: m[(sp + 1)...]))
                joined.removeAll(keepingCapacity: true)
                joined.append(contentsOf: m[..<sp])
                joined.append(contentsOf: m[(sp + 1)...])
                merges.add(left: left, right: right, merged: symbols.intern(joined), rank: rank)
            }
        }
        self.symbols = symbols
        self.merges = merges
    }

    /// GPT-2's bytes_to_unicode: printable bytes stand for themselves, the others for U+0100 onwards.
    static func byteStandIns() -> (toStandIn: [UInt32], fromStandIn: [Int16]) {
        var to = [UInt32](repeating: 0, count: 256)
        var from = [Int16](repeating: -1, count: 0x144)
        var n: UInt32 = 0
        for b in 0..<256 {
            let printable = (0x21...0x7E).contains(b) || (0xA1...0xAC).contains(b) || (0xAE...0xFF).contains(b)
            let c = printable ? UInt32(b) : 256 + n
            if !printable { n += 1 }
            to[b] = c
            from[Int(c)] = Int16(b)
        }
        return (to, from)
    }

    public func encode(_ text: String, parseSpecial: Bool) -> [Int32] {
        var text = text
        return text.withUTF8 { bytes in
            var out: [Int32] = []
            out.reserveCapacity(bytes.count / 3)
            var cache: [ArraySlice<UInt8>: [Int32]] = [:]
            for fragment in vocab.specials.partition(bytes, parseSpecial: parseSpecial) {
                switch fragment {
                case .token(let id): out.append(id)
                case .text(let r): encodeFragment(UnsafeBufferPointer(rebasing: bytes[r]), into: &out, cache: &cache)
                }
            }
            return out
        }
    }

    private func encodeFragment(_ bytes: UnsafeBufferPointer<UInt8>, into out: inout [Int32],
                                cache: inout [ArraySlice<UInt8>: [Int32]]) {
        // Code points and the byte offset where each starts.
        var cps: [UInt32] = []
        var starts: [Int] = []
        cps.reserveCapacity(bytes.count)
        starts.reserveCapacity(bytes.count + 1)
        var i = 0
        while i < bytes.count {
            let (c, len) = decodeUTF8(bytes, at: i)
            cps.append(c)
            starts.append(i)
            i += len
        }
        starts.append(bytes.count)
        let all = Array(bytes)
        for w in preTokenizer.split(cps) {
            let word = all[starts[w.lowerBound]..<starts[w.upperBound]]
            if let ids = cache[word] {
                out.append(contentsOf: ids)
                continue
            }
            let ids = encodeWord(word)
            if cache.count < 1 << 16 { cache[word] = ids }
            out.append(contentsOf: ids)
        }
    }

    /// BPE over one word's bytes.
    func encodeWord(_ word: ArraySlice<UInt8>) -> [Int32] {
        if preTokenizer.ignoreMerges {
            var encoded: [UInt8] = []
            for b in word { encoded.append(contentsOf: symbols.bytes(byteSymbol[Int(b)])) }
            if let id = vocab.table.find(encoded) { return [id] }
        }
        let sym = merges.apply(word.map { byteSymbol[Int($0)] })
        var ids: [Int32] = []
        ids.reserveCapacity(sym.count)
        for s in sym {
            if Int(s) < vocab.count {
                ids.append(s)
            } else {
                // Not a token: each byte of its (stand-in) text, if that byte alone is one.
                for b in symbols.bytes(s) { if let t = vocab.table.find([b]) { ids.append(t) } }
            }
        }
        return ids
    }

    public func bytes(of id: Int32, renderSpecial: Bool) -> [UInt8] {
        guard id >= 0, Int(id) < vocab.count else { return [] }
        let attr = vocab.attributes[Int(id)]
        if !attr.isDisjoint(with: [.control, .unknown]) {
            return renderSpecial ? Array(vocab.table.bytes(id)) : []
        }
        if attr.contains(.userDefined) { return Array(vocab.table.bytes(id)) }
        if attr.contains(.normal) {
            let text = vocab.table.bytes(id)
            var out: [UInt8] = []
            out.reserveCapacity(text.count)
            text.withUnsafeBufferPointer { p in
                var i = 0
                while i < p.count {
                    let (c, len) = decodeUTF8(p, at: i)
                    i += len
                    if c < 0x144, standInToByte[Int(c)] >= 0 {
                        out.append(UInt8(standInToByte[Int(c)]))
                    } else {
                        // llama.cpp's marker for a character outside the byte alphabet.
                        out.append(contentsOf: Array("[UNK_BYTE_0x".utf8))
                        for b in Unicode.Scalar(c)?.utf8Bytes ?? [] { out.append(contentsOf: hex2(b)) }
                        out.append(contentsOf: text)
                        out.append(UInt8(ascii: "]"))
                    }
                }
            }
            return out
        }
        return []
    }

    public func tokenText(_ id: Int32) -> String {
        guard id >= 0, Int(id) < vocab.count else { return "" }
        return String(decoding: vocab.table.bytes(id), as: UTF8.self)
    }
}

/// One code point of valid UTF-8 at `i` (invalid bytes read as U+FFFD, one byte long).
@inline(__always)
func decodeUTF8(_ p: UnsafeBufferPointer<UInt8>, at i: Int) -> (UInt32, Int) {
    let b0 = UInt32(p[i])
    if b0 < 0x80 { return (b0, 1) }
    let n = p.count - i
    if b0 & 0xE0 == 0xC0, n >= 2 { return ((b0 & 0x1F) << 6 | UInt32(p[i + 1] & 0x3F), 2) }
    if b0 & 0xF0 == 0xE0, n >= 3 {
        return ((b0 & 0x0F) << 12 | UInt32(p[i + 1] & 0x3F) << 6 | UInt32(p[i + 2] & 0x3F), 3)
    }
    if b0 & 0xF8 == 0xF0, n >= 4 {
        return ((b0 & 0x07) << 18 | UInt32(p[i + 1] & 0x3F) << 12 | UInt32(p[i + 2] & 0x3F) << 6
                | UInt32(p[i + 3] & 0x3F), 4)
    }
    return (0xFFFD, 1)
}

func hex2(_ b: UInt8) -> [UInt8] {
    let digits = Array("0123456789abcdef".utf8)
    return [digits[Int(b >> 4)], digits[Int(b & 15)]]
}

extension Unicode.Scalar {
    var utf8Bytes: [UInt8] { Array(String(Character(self)).utf8) }
}
