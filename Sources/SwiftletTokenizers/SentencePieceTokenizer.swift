// SentencePiece BPE (tokenizer.ggml.model "llama"), as llama.cpp's llm_tokenizer_spm: spaces become
// U+2581, every UTF-8 character starts as a symbol, and the adjacent pair whose concatenation is the
// highest-scoring token is merged until none is left; characters that never formed a token fall back
// to <0xXX> byte tokens (or UNK). Gemma 3 uses this with add_space_prefix false.
import SwiftletFormats

/// SentencePiece BPE over a GGUF vocabulary with scores.
public struct SentencePieceTokenizer: Tokenizer {
    let vocab: Vocabulary
    /// Token for each byte: <0xXX>, else the byte as a one-byte token, else UNK (-1 if none).
    let byteTokens: [Int32]

    public var vocabularySize: Int { vocab.count }
    public var bos: Int32? { vocab.bos }
    public var eos: Int32? { vocab.eos }
    public var eot: Int32? { vocab.eot }
    public var addBOS: Bool { vocab.addBOS }
    public var endOfGeneration: Set<Int32> { vocab.endOfGeneration }
    public var stripsLeadingSpace: Bool { vocab.addSpacePrefix }

    static let spaceMark: [UInt8] = [0xE2, 0x96, 0x81]  // U+2581 ▁

    init(gguf: GGUFFile) throws {
        try self.init(vocab: Vocabulary(gguf: gguf, kind: .sentencePiece, defaultAddBOS: true))
    }

    init(vocab: Vocabulary) {
        self.vocab = vocab
        byteTokens = (0..<256).map { b in
            let hex = Array(String(format2X: UInt8(b)).utf8)
            return vocab.table.find(Array("<0x".utf8) + hex + [UInt8(ascii: ">")])
                ?? vocab.table.find([UInt8(b)]) ?? vocab.unk ?? -1
        }
    }

    public func encode(_ text: String, parseSpecial: Bool) -> [Int32] {
        var text = text
        return text.withUTF8 { bytes in
            var out: [Int32] = []
            out.reserveCapacity(bytes.count / 3)
            var previousWasSpecial = true
            var escaped: [UInt8] = []
            for fragment in vocab.specials.partition(bytes, parseSpecial: parseSpecial) {
                switch fragment {
                case .token(let id):
                    out.append(id)
                    previousWasSpecial = true
                case .text(let r):
                    escaped.removeAll(keepingCapacity: true)
                    if vocab.addSpacePrefix && previousWasSpecial { escaped.append(contentsOf: Self.spaceMark) }
                    for b in bytes[r] {
                        if b == 0x20 { escaped.append(contentsOf: Self.spaceMark) } else { escaped.append(b) }
                    }
                    escaped.withUnsafeBufferPointer { tokenize($0, into: &out) }
                    previousWasSpecial = false
                }
            }
            return out
        }
    }

    private struct Symbol {
        var start: Int32
        var length: Int32
        var prev: Int32
        var next: Int32
    }

    private struct Pair: HeapOrdered {
        var score: Float
        var left: Int32
        var right: Int32
        var size: Int32
        /// Higher score first, then the leftmost pair.
        @inline(__always) func before(_ o: Pair) -> Bool { score != o.score ? score > o.score : left < o.left }
    }

    private func tokenize(_ text: UnsafeBufferPointer<UInt8>, into out: inout [Int32]) {
        var symbols: [Symbol] = []
        symbols.reserveCapacity(text.count)
        var offset = 0
        while offset < text.count {
            let len = min(utf8Length(text[offset]), text.count - offset)
            let index = Int32(symbols.count)
            symbols.append(Symbol(start: Int32(offset), length: Int32(len), prev: index - 1,
                                  next: offset + len == text.count ? -1 : index + 1))
            offset += len
        }
        if symbols.isEmpty { return }

        var heap = BinaryHeap<Pair>()
        func tryAdd(_ l: Int32, _ r: Int32) {
            guard l >= 0, r >= 0 else { return }
            let s = Int(symbols[Int(l)].start)
            let n = Int(symbols[Int(l)].length + symbols[Int(r)].length)
            guard let id = vocab.table.find(UnsafeBufferPointer(rebasing: text[s..<(s + n)])) else { return }
            heap.push(Pair(score: vocab.scores[Int(id)], left: l, right: r, size: Int32(n)))
        }
        for i in 1..<symbols.count { tryAdd(Int32(i - 1), Int32(i)) }

        while let p = heap.pop() {
            let l = Int(p.left), r = Int(p.right)
            // Skip pairs whose symbols were merged away or grew since.
            guard symbols[l].length != 0, symbols[r].length != 0,
                  symbols[l].length + symbols[r].length == p.size else { continue }
            symbols[l].length += symbols[r].length
            symbols[r].length = 0
            symbols[l].next = symbols[r].next
            if symbols[r].next >= 0 { symbols[Int(symbols[r].next)].prev = p.left }
            tryAdd(symbols[l].prev, p.left)
            tryAdd(p.left, symbols[l].next)
        }

        var i: Int32 = 0
        while i != -1 {
            let s = symbols[Int(i)]
            let piece = UnsafeBufferPointer(rebasing: text[Int(s.start)..<Int(s.start + s.length)])
            if let id = vocab.table.find(piece) {
                out.append(id)
            } else {
                for b in piece where byteTokens[Int(b)] >= 0 { out.append(byteTokens[Int(b)]) }
            }
            i = s.next
        }
    }

    public func bytes(of id: Int32, renderSpecial: Bool) -> [UInt8] {
        guard id >= 0, Int(id) < vocab.count else { return [] }
        let attr = vocab.attributes[Int(id)]
        let text = vocab.table.bytes(id)
        if !attr.isDisjoint(with: [.control, .unknown]) { return renderSpecial ? Array(text) : [] }
        if attr.contains(.userDefined) { return Array(text) }
        if attr.contains(.normal) {
            var out: [UInt8] = []
            out.reserveCapacity(text.count)
            var i = text.startIndex
            while i < text.endIndex {
                if text[i] == 0xE2 && i + 2 < text.endIndex && text[i + 1] == 0x96 && text[i + 2] == 0x81 {
                    out.append(0x20)
                    i += 3
                } else {
                    out.append(text[i])
                    i += 1
                }
            }
            return out
        }
        if attr.contains(.byte), text.count == 6, let b = UInt8(String(decoding: text.dropFirst(3).prefix(2), as: UTF8.self), radix: 16) {
            return [b]
        }
        return []
    }

    public func tokenText(_ id: Int32) -> String {
        guard id >= 0, Int(id) < vocab.count else { return "" }
        return String(decoding: vocab.table.bytes(id), as: UTF8.self)
    }
}

/// Length of the UTF-8 sequence a lead byte starts (llama.cpp's unicode_len_utf8).
@inline(__always)
func utf8Length(_ b: UInt8) -> Int {
    switch b >> 4 {
    case 0xC, 0xD: return 2
    case 0xE: return 3
    case 0xF: return 4
    default: return 1
    }
}

extension String {
    /// Two uppercase hex digits.
    init(format2X b: UInt8) {
        let d = Array("0123456789ABCDEF")
        self = String([d[Int(b >> 4)], d[Int(b & 15)]])
    }
}
