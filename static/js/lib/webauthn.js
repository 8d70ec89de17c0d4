// WebAuthn's JSON form: the API sends options and takes credentials with binary
// fields as base64url (py_webauthn's options_to_json; PublicKeyCredential.toJSON()).
// Browsers want ArrayBuffers, so the few binary fields are converted here.

function fromBase64url(text) {
  const base64 = text.replace(/-/g, "+").replace(/_/g, "/");
  const binary = atob(base64 + "=".repeat((4 - (base64.length % 4)) % 4));
  return Uint8Array.from(binary, (c) => c.charCodeAt(0)).buffer;
}

function toBase64url(buffer) {
  let binary = "";
  for (const byte of new Uint8Array(buffer)) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function descriptors(list) {
  return (list ?? []).map((item) => ({ ...item, id: fromBase64url(item.id) }));
}

export function supported() {
  return typeof window.PublicKeyCredential === "function" && !!navigator.credentials;
}

/** navigator.credentials.create for the API's creation options; the credential as JSON. */
export async function createCredential(options) {
  const publicKey = {
    ...options,
    challenge: fromBase64url(options.challenge),
    user: { ...options.user, id: fromBase64url(options.user.id) },
    excludeCredentials: descriptors(options.excludeCredentials),
  };
  const credential = await navigator.credentials.create({ publicKey });
  const response = credential.response;
  return credentialJSON(credential, {
    clientDataJSON: toBase64url(response.clientDataJSON),
    attestationObject: toBase64url(response.attestationObject),
    transports: typeof response.getTransports === "function" ? response.getTransports() : [],
  });
}

/** Whether the browser offers passkeys in a username field's autofill (conditional UI). */
export async function autofillAvailable() {
  if (!supported() || typeof PublicKeyCredential.isConditionalMediationAvailable !== "function") {
    return false;
  }
  try {
    return await PublicKeyCredential.isConditionalMediationAvailable();
  } catch {
    return false;
  }
}

/**
 * navigator.credentials.get for the API's request options; the assertion as JSON.
 * mediation "conditional" waits for the person to pick a passkey from the username
 * field's autofill (the field says autocomplete="… webauthn"); signal aborts it.
 */
export async function getAssertion(options, { mediation, signal } = {}) {
  const publicKey = {
    ...options,
    challenge: fromBase64url(options.challenge),
    allowCredentials: descriptors(options.allowCredentials),
  };
  signal?.throwIfAborted();
  const credential = await navigator.credentials.get(
    mediation ? { publicKey, mediation, signal } : { publicKey });
  const response = credential.response;
  return credentialJSON(credential, {
    clientDataJSON: toBase64url(response.clientDataJSON),
    authenticatorData: toBase64url(response.authenticatorData),
    signature: toBase64url(response.signature),
    userHandle: response.userHandle ? toBase64url(response.userHandle) : null,
  });
}

/** A PublicKeyCredential as the JSON the API reads (WebAuthn's toJSON shape). */
function credentialJSON(credential, response) {
  return {
    id: credential.id,
    rawId: toBase64url(credential.rawId),
    type: credential.type,
    response,
    clientExtensionResults: credential.getClientExtensionResults(),
    authenticatorAttachment: credential.authenticatorAttachment ?? undefined,
  };
}

/** A sentence for a person when the browser's passkey prompt failed or was dismissed. */
export function problemText(error) {
  if (error?.name === "NotAllowedError") {
    return "The passkey request was cancelled or timed out. Try again when you are ready.";
  }
  if (error?.name === "InvalidStateError") return "This device already holds a passkey for your account.";
  if (error?.name === "SecurityError") return "Passkeys are not available on this address.";
  return error?.message || "The passkey could not be used.";
}
