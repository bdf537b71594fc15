/**
 * The fewest UTF-16 code units any match of a JavaScript regular expression can span, read from its
 * source. The secret scanner uses it as a necessary condition: a text shorter than that cannot hold a
 * match, so the rule need not run. It must never overstate: every construct it does not know for
 * sure counts as zero (lookarounds, backreferences, `\b`), and a pattern it cannot read at all
 * (inline modifiers, the `v` flag's nested classes) gives 0, meaning "always run the rule".
 */

class Unsupported extends Error {}

// Sticky patterns read at a position (no copy of the rest of the source per construct).
const QUANTIFIER = /\{(\d+)(?:,\d*)?\}/y;
const HEX2 = /[0-9a-fA-F]{2}/y;
const UNICODE = /\{[0-9a-fA-F]+\}|[0-9a-fA-F]{4}/y;
const LETTER = /[A-Za-z]/y;

/** The match of a sticky pattern at `pos` in `src`, or null. */
function at(re: RegExp, src: string, pos: number): RegExpExecArray | null {
  re.lastIndex = pos;
  return re.exec(src);
}

/** A reader over one pattern source; each method returns the minimum length of what it consumed. */
class MinLengthReader {
  pos = 0;
  constructor(private readonly src: string) {}

  /** `a|b|c`: the least of the alternatives. */
  alternation(): number {
    let least = this.sequence();
    while (this.src[this.pos] === '|') {
      this.pos++;
      least = Math.min(least, this.sequence());
    }
    return least;
  }

  private sequence(): number {
    let sum = 0;
    while (this.pos < this.src.length) {
      const c = this.src[this.pos];
      if (c === '|' || c === ')') break;
      const atom = this.atom();
      sum += atom * this.quantifier();
    }
    return sum;
  }

  /** The repeat count's lower bound of a quantifier after an atom (1 when there is none). */
  private quantifier(): number {
    const c = this.src[this.pos];
    let least = 1;
    if (c === '*' || c === '?') {
      least = 0;
      this.pos++;
    } else if (c === '+') {
      this.pos++;
    } else if (c === '{') {
      const m = at(QUANTIFIER, this.src, this.pos);
      if (m === null) return 1; // a literal '{' (not a quantifier) is read as the next atom
      least = Number(m[1]);
      this.pos += m[0].length;
    } else return 1;
    if (this.src[this.pos] === '?') this.pos++; // lazy
    return least;
  }

  private atom(): number {
    const c = this.src[this.pos]!;
    if (c === '^' || c === '$') {
      this.pos++;
      return 0;
    }
    if (c === '(') return this.group();
    if (c === '[') return this.charClass();
    if (c === '\\') return this.escape();
    this.pos++;
    return 1; // '.', a literal, or a '{' that is not a quantifier
  }

  private group(): number {
    const rest = this.src.slice(this.pos, this.pos + 4);
    let zeroWidth = false;
    if (rest.startsWith('(?:')) this.pos += 3;
    else if (rest.startsWith('(?=') || rest.startsWith('(?!')) {
      this.pos += 3;
      zeroWidth = true;
    } else if (rest.startsWith('(?<=') || rest.startsWith('(?<!')) {
      this.pos += 4;
      zeroWidth = true;
    } else if (rest.startsWith('(?<')) {
      const end = this.src.indexOf('>', this.pos);
      if (end < 0) throw new Unsupported();
      this.pos = end + 1;
    } else if (rest.startsWith('(?'))
      throw new Unsupported(); // inline modifiers and the like
    else this.pos++;
    const inner = this.alternation();
    if (this.src[this.pos] !== ')') throw new Unsupported();
    this.pos++;
    return zeroWidth ? 0 : inner;
  }

  /** `[...]` matches one character (an empty class never matches, so any count is sound). */
  private charClass(): number {
    this.pos++;
    if (this.src[this.pos] === '^') this.pos++;
    while (this.pos < this.src.length && this.src[this.pos] !== ']')
      this.pos += this.src[this.pos] === '\\' ? 2 : 1;
    if (this.pos >= this.src.length) throw new Unsupported();
    this.pos++;
    return 1;
  }

  private escape(): number {
    const d = this.src[this.pos + 1];
    if (d === undefined) throw new Unsupported();
    this.pos += 2;
    if (d === 'b' || d === 'B') return 0;
    if (d >= '1' && d <= '9') {
      while (this.pos < this.src.length && this.src[this.pos]! >= '0' && this.src[this.pos]! <= '9')
        this.pos++;
      return 0; // a backreference may match the empty string
    }
    if (d === 'k') {
      if (this.src[this.pos] === '<') {
        const end = this.src.indexOf('>', this.pos);
        if (end >= 0) this.pos = end + 1;
      }
      return 0;
    }
    // Escapes of one character (\d, \w, \x41, \u0041, \u{...}, \p{...}, \cA, \n, \.): the extra
    // source characters they use are skipped so they are not counted as atoms of their own.
    if (d === 'x' && at(HEX2, this.src, this.pos) !== null) this.pos += 2;
    else if (d === 'u') {
      const m = at(UNICODE, this.src, this.pos);
      if (m !== null) this.pos += m[0].length;
    } else if ((d === 'p' || d === 'P') && this.src[this.pos] === '{') {
      const end = this.src.indexOf('}', this.pos);
      if (end >= 0) this.pos = end + 1;
    } else if (d === 'c' && at(LETTER, this.src, this.pos) !== null) this.pos++;
    return 1;
  }
}

/**
 * The fewest UTF-16 units a match of `new RegExp(source, flags)` can span; 0 when the source holds
 * a construct this reader does not know (always sound: it may understate, never overstate).
 */
export function minMatchLength(source: string, flags = ''): number {
  if (flags.includes('v')) return 0;
  try {
    const reader = new MinLengthReader(source);
    const least = reader.alternation();
    return reader.pos === source.length ? least : 0;
  } catch (e) {
    if (e instanceof Unsupported) return 0;
    throw e;
  }
}
