// The little the page needs from JavaScript: drawing on a canvas and reading its pixels. Pointer events, the network and
// everything else run in .NET (Pad.razor).

// Stroke width in canvas pixels: a digit drawn across most of the 280-pixel pad is scaled to 20 pixels, which makes
// this about 2 pixels, the stroke width of MNIST's digits.
const brush = 20;

// Pointer coordinates are CSS pixels; the canvas may be displayed smaller than its 280 pixels (a narrow phone).
function scaled(canvas, x, y) {
    return [x * canvas.width / canvas.clientWidth, y * canvas.height / canvas.clientHeight];
}

export function clear(canvas) {
    const g = canvas.getContext("2d", { willReadFrequently: true });
    g.fillStyle = "#fff";
    g.fillRect(0, 0, canvas.width, canvas.height);
}

export function line(canvas, x0, y0, x1, y1) {
    const g = canvas.getContext("2d", { willReadFrequently: true });
    const [ax, ay] = scaled(canvas, x0, y0);
    const [bx, by] = scaled(canvas, x1, y1);
    g.strokeStyle = "#000";
    g.fillStyle = "#000";
    g.lineWidth = brush;
    g.lineCap = "round";
    g.lineJoin = "round";
    if (ax === bx && ay === by) {
        g.beginPath();
        g.arc(ax, ay, brush / 2, 0, 2 * Math.PI);
        g.fill();
        return;
    }
    g.beginPath();
    g.moveTo(ax, ay);
    g.lineTo(bx, by);
    g.stroke();
}

export function capture(canvas, pointerId) {
    try { canvas.setPointerCapture(pointerId); } catch { /* the pointer is already gone */ }
}

// RGBA bytes, row-major, as DigitImage.GrayFromRgba reads them.
export function pixels(canvas) {
    const g = canvas.getContext("2d", { willReadFrequently: true });
    return new Uint8Array(g.getImageData(0, 0, canvas.width, canvas.height).data.buffer);
}

// Shows 8-bit gray pixels (the network's 28x28 input) on a canvas of their size.
export function show(canvas, gray) {
    const g = canvas.getContext("2d");
    const image = g.createImageData(canvas.width, canvas.height);
    for (let i = 0; i < gray.length; i++) {
        image.data[4 * i] = image.data[4 * i + 1] = image.data[4 * i + 2] = gray[i];
        image.data[4 * i + 3] = 255;
    }
    g.putImageData(image, 0, 0);
}

// Milliseconds since the page began to load.
export function now() {
    return performance.now();
}
