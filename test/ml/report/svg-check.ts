/**
 * Minimal XML checks for the SVG tests, written without a DOM: tags balance, attributes are quoted,
 * text holds no raw `<` or bare `&`, and every drawn coordinate lies inside the viewBox.
 */

/** Throws with the first well-formedness problem found. */
export function assertWellFormed(xml: string): void {
  const stack: string[] = [];
  const tag = /<(\/?)([A-Za-z][\w:-]*)((?:\s+[\w:-]+="[^"<]*")*)\s*(\/?)>/y;
  let i = 0;
  while (i < xml.length) {
    const lt = xml.indexOf('<', i);
    const text = xml.slice(i, lt < 0 ? xml.length : lt);
    const amp = text.match(/&(?!(?:amp|lt|gt|quot|#39|#\d+);)/);
    if (amp) throw new Error(`bare & in text near "${text.slice(0, 40)}"`);
    if (text.includes('>')) throw new Error(`raw > in text near "${text.slice(0, 40)}"`);
    if (lt < 0) break;
    tag.lastIndex = lt;
    const m = tag.exec(xml);
    if (!m) throw new Error(`malformed tag at ${lt}: "${xml.slice(lt, lt + 60)}"`);
    const [, close, name, , self] = m;
    if (close) {
      const open = stack.pop();
      if (open !== name) throw new Error(`</${name}> closes <${open ?? 'nothing'}>`);
    } else if (!self) {
      stack.push(name!);
    }
    i = tag.lastIndex;
  }
  if (stack.length > 0) throw new Error(`unclosed <${stack.join('>, <')}>`);
}

/** The viewBox as [width, height]; the plots always start at 0 0. */
export function viewBox(svg: string): [number, number] {
  const m = svg.match(/viewBox="0 0 ([\d.]+) ([\d.]+)"/);
  if (!m) throw new Error('no viewBox');
  return [Number(m[1]), Number(m[2])];
}

/** Every x/y coordinate of circles, lines, rects and polylines. */
export function drawnPoints(svg: string): [number, number][] {
  const out: [number, number][] = [];
  const attr = (el: string, a: string) => Number(el.match(new RegExp(`\\s${a}="([^"]*)"`))?.[1]);
  for (const el of svg.match(/<circle[^>]*>/g) ?? []) out.push([attr(el, 'cx'), attr(el, 'cy')]);
  for (const el of svg.match(/<line[^>]*>/g) ?? []) {
    out.push([attr(el, 'x1'), attr(el, 'y1')], [attr(el, 'x2'), attr(el, 'y2')]);
  }
  for (const el of svg.match(/<rect[^>]*>/g) ?? []) {
    const x = attr(el, 'x');
    const y = attr(el, 'y');
    out.push([x, y], [x + attr(el, 'width'), y + attr(el, 'height')]);
  }
  for (const el of svg.match(/<polyline[^>]*>/g) ?? []) {
    const pts = el.match(/points="([^"]*)"/)?.[1] ?? '';
    for (const p of pts.trim().split(/\s+/)) {
      const [x, y] = p.split(',').map(Number);
      out.push([x!, y!]);
    }
  }
  return out;
}

/** Throws when a coordinate is NaN or outside [0, w] × [0, h]. */
export function assertInsideViewBox(svg: string): void {
  const [w, h] = viewBox(svg);
  for (const [x, y] of drawnPoints(svg)) {
    if (!(x >= 0 && x <= w && y >= 0 && y <= h)) throw new Error(`point (${x}, ${y}) outside 0 0 ${w} ${h}`);
  }
}
