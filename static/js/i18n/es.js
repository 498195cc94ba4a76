// The tablet app's messages in Spanish (static/js/i18n.js); every key of en.js, with the same
// placeholders (tests/tablet/test_messages.py).
export default {
  "time.never": "nunca",
  "time.just_now": "ahora mismo",
  "time.minutes_ago": "hace {n} min",
  "time.hours_ago": "hace {n} h",
  "sync.waiting": "{n} en espera",
  "sync.syncing": "Sincronizando…",
  "sync.offline": "Sin conexión — guardado en esta tableta",
  "sync.signed_out": "Sesión cerrada — no se pierde nada",
  "sync.failed": "Falló la sincronización — se reintenta en {n} s",
  "sync.all_saved": "Todo guardado en el servidor · {when}",
  "sync.session_ended":
    "<p>Su sesión ha terminado. Todo lo que registró está a salvo en esta tableta y espera en la bandeja de " +
    'salida.\n <a class="button button-primary" href="/sign-in?next=/app/">Volver a iniciar sesión</a></p>',
  "start.offline_title": "observe no tiene conexión",
  "start.offline_body": "Inicie sesión una vez con conexión; después, esta tableta registra visitas al aula sin red.",
  "start.reloading": "observe cambió en otra pestaña (una actualización o un cierre de sesión); recargando.",
  "start.almost_title": "Casi listo",
  "start.almost_body":
    "observe necesita la red una vez para descargar su rúbrica y sus escuelas. Conéctese y recargue.",
  "start.failed": "observe no pudo iniciarse",
  "header.skip": "Ir al contenido",
  "header.starting": "Iniciando…",
  "header.sync_now": "Sincronizar",
  "header.reports_settings": "Informes y ajustes",
  "header.reports": "Informes",
  "header.sign_out": "Cerrar sesión",
  "update.ready":
    "<p>Hay una actualización de observe lista. Su trabajo está guardado; al actualizar se recarga la aplicación.\n " +
    '<button type="button" class="button button-primary" id="update-now">Actualizar ahora</button></p>',
  "locked.title": "{other} ha iniciado sesión en esta tableta",
  "locked.body":
    "Las visitas al aula de {name} siguen a salvo en esta tableta y se envían solo cuando {name} vuelva a iniciar " +
    "sesión.",
  "locked.open": "Abrir la aplicación como {other}",
  "sign_out.unsynced_title": "Todavía no todo está en el servidor",
  "sign_out.unsynced_body": {
    one:
      "<p>{n} versión de una visita al aula está solo en esta tableta. Si cierra sesión ahora, podría perderla. " +
      "Sincronice cuando tenga conexión o expórtela antes a un archivo.</p>",
    other:
      "<p>{n} versiones de visitas al aula están solo en esta tableta. Si cierra sesión ahora, podría perderlas. " +
      "Sincronice cuando tenga conexión o expórtelas antes a un archivo.</p>",
  },
  "sign_out.keep": "Dejarlo aquí hasta que vuelva a iniciar sesión",
  "sign_out.stay": "Seguir con la sesión iniciada",
  "sign_out.offline_title": "No tiene conexión",
  "sign_out.offline_body": "Para cerrar sesión se necesita la red. Su trabajo está guardado en esta tableta.",
  "common.ok": "Aceptar",
  "guard.unsynced": {
    one:
      "{n} versión de una visita al aula está en este dispositivo pero todavía no en el servidor. <a " +
      'href="/app/">Abra la aplicación de visitas</a> para sincronizarla o exportarla antes de cerrar sesión.',
    other:
      "{n} versiones de visitas al aula están en este dispositivo pero todavía no en el servidor. <a " +
      'href="/app/">Abra la aplicación de visitas</a> para sincronizarlas o exportarlas antes de cerrar sesión.',
  },
  "home.two_devices": "editada en dos dispositivos",
  "home.persisted_yes": "el navegador conserva los datos de esta tableta aunque falte espacio",
  "home.persisted_no": "el navegador podría borrar los datos de esta tableta si falta espacio — sincronice a menudo",
  "home.title": "Visitas al aula",
  "home.start": "Iniciar una visita al aula",
  "home.drafts": "Borradores",
  "home.no_drafts": "No hay borradores en esta tableta.",
  "home.waiting": "En espera de sincronizar",
  "home.no_waiting": "No hay nada en espera.",
  "home.attention": "Requiere atención",
  "home.no_attention": "Nada requiere atención.",
  "home.synced": "Sincronizadas recientemente",
  "home.no_synced": "Todavía no se ha sincronizado nada.",
  "home.signed_in_as": "Sesión iniciada como <strong>{name}</strong>",
  "home.add_to_home":
    '<p id="add-to-home">En iPad, Safari borra los datos de un sitio web tras siete días sin visitarlo, y con ellos ' +
    "las visitas al aula aún no enviadas. Agregue observe a la pantalla de inicio (toque <strong>Compartir</strong> " +
    "y luego <strong>Agregar a inicio</strong>) y ábralo desde allí: Safari conserva los datos de las aplicaciones " +
    "de la pantalla de inicio.</p>",
  "home.export": "Exportar datos sin sincronizar",
  "home.exported": {
    one:
      "<p>Se exportó {n} versión a un archivo. Un administrador puede cargarlo con <code>observe " +
      "import-offline</code>.</p>",
    other:
      "<p>Se exportaron {n} versiones a un archivo. Un administrador puede cargarlo con <code>observe " +
      "import-offline</code>.</p>",
  },
  "others.switch": "Cerrar sesión para que {name} pueda iniciarla",
  "others.title": "También en espera en esta tableta",
  "others.body":
    "Las visitas al aula de {names} están en esta tableta pero todavía no en el servidor. Solo su propio inicio de " +
    "sesión las envía.",
  "eviction.answer_yes": "que sí: debería conservar los datos de observe a partir de ahora",
  "eviction.answer_no": "que no: podría volver a borrar los datos si falta espacio, así que sincronice a menudo",
  "eviction.answer_unsupported": "nada: a este navegador no se le puede preguntar, así que sincronice a menudo",
  "eviction.last": ", la última el <strong>{when}</strong>",
  "eviction.before": "Antes de que se borraran los datos había respondido {answer}.",
  "eviction.asked":
    "observe pide al navegador que conserve sus datos (almacenamiento persistente). Este navegador respondió " +
    "{answer}.",
  "eviction.title": "Se borró el almacenamiento de esta tableta",
  "eviction.versions": {
    one: "{n} versión de visita al aula",
    other: "{n} versiones de visitas al aula",
  },
  "eviction.body":
    "El navegador borró los datos de observe en esta tableta (no fue un cierre de sesión). Lo que el servidor había " +
    "recibido de esta tableta está a salvo: <strong>{versions}</strong>{last}; sus visitas al aula de los últimos " +
    "120 días están de nuevo en la tableta. Lo que se registró después y nunca se envió se ha perdido.",
  "eviction.add_to_home":
    "<p>Safari borra los datos de un sitio web tras siete días sin visitarlo. Para que no vuelva a ocurrir, agregue " +
    "observe a la pantalla de inicio: toque <strong>Compartir</strong>, luego <strong>Agregar a inicio</strong>, y " +
    "de ahora en adelante abra observe desde su icono. Safari conserva los datos de las aplicaciones de la pantalla " +
    "de inicio.</p>",
  "common.got_it": "Entendido",
  "calibration.waiting": "Enviada · en espera de sincronizar",
  "calibration.attention": "El servidor no aceptó sus puntuaciones: ábralas para ver por qué",
  "calibration.synced": "Enviada · oculta para los demás hasta la revelación",
  "place.whole_school": "Toda la escuela",
  "calibration.blind": "Puntuación a ciegas",
  "calibration.report": "Ver el informe",
  "calibration.revealed": "Revelada",
  "calibration.score": "Puntuar esta clase",
  "calibration.continue": "Seguir puntuando",
  "calibration.yours": "Sus puntuaciones",
  "calibration.title": "Sesiones de calibración",
  "calibration.intro":
    "Puntúe la clase por su cuenta; nadie ve las puntuaciones de nadie hasta que el facilitador las revela.",
  "discard.button": "Descartar borrador",
  "submitted.open": "Abrirla",
  "feedback.title": "Retroalimentación para el docente",
  "submitted.reveal": "El facilitador revela las puntuaciones del equipo.",
  "submitted.feedback_ready": "Su retroalimentación está lista.",
  "submitted.waiting":
    "<p><strong>Enviada: {place}.</strong> Está guardada en esta tableta y espera para sincronizarse: llega al " +
    "servidor en cuanto la tableta tenga conexión. Su página de retroalimentación se abre cuando el servidor la " +
    "tenga.</p>",
  "submitted.synced": "<p><strong>Enviada y en el servidor: {place}.</strong> {ready}</p>",
  "submitted.attention":
    "<p><strong>Enviada, pero el servidor no la aceptó: {place}.</strong> Vea lo que dijo y envíela de nuevo.</p>",
  "submitted.synced_title": "Sincronizada",
  "submitted.title": "Enviada",
  "common.dismiss": "Cerrar",
  "view.synced": "Enviada · en el servidor desde {when}",
  "view.attention": "El servidor no aceptó esta versión",
  "view.deleted": "Eliminada en el servidor",
  "view.conflict": "editada en dos dispositivos: un directivo conciliará las versiones",
  "view.walkthrough": "visita al aula",
  "view.server_said": "Lo que dijo el servidor",
  "view.edit_again": "Editar y enviar de nuevo",
  "view.reopen": "Reabrir para corregir",
  "common.home": "Inicio",
  "send.the_teacher": "el docente",
  "send.sent": "<strong>Enviada</strong> a {to} {when}.",
  "send.not_sent": "<strong>No enviada:</strong> {error}",
  "send.queued_next_sync": "<strong>En cola:</strong> llega al docente en la próxima sincronización.",
  "send.queued_after_sync":
    "<strong>En cola:</strong> llega al docente cuando esta visita al aula se haya sincronizado.",
  "send.last_try": "Último intento: {error}",
  "send.not_read": "El docente todavía no ha indicado que la leyó.",
  "send.read": "<strong>Leída</strong> por {name} {when}.",
  "send.reflection": "Reflexión de {name}",
  "send.open": "Abrir la retroalimentación",
  "send.try_again": "Intentar de nuevo",
  "send.send": "Enviar retroalimentación al docente",
  "place.calibration": "Calibración · {title}",
  "place.a_school": "una escuela",
  "form.rated": "{rated} de {total} calificados",
  "form.not_observed": "No observado",
  "form.not_rated": "Sin calificar",
  "form.notes": "Notas generales",
  "not_found.title": "No está en esta tableta",
  "not_found.body": "Esta visita al aula no está guardada aquí.",
  "size.look_fors": {
    one: "{n} indicador",
    other: "{n} indicadores",
  },
  "size.minutes": {
    one: "unos {n} minuto",
    other: "unos {n} minutos",
  },
  "start.quick": "Rápida",
  "start.has_required": "tiene indicadores obligatorios",
  "start.focus": "Enfoque de hoy",
  "start.focus_hint":
    'Elija las competencias que observará hoy; las demás se pliegan y quedan sin calificar (no como "no observado").',
  "start.whole_rubric": "Toda la rúbrica",
  "start.school": "Escuela",
  "start.rubric": "Rúbrica",
  "common.cancel": "Cancelar",
  "start.begin": "Comenzar",
  "start.classroom": "Aula",
  "start.search": "Buscar por aula, docente, curso o código",
  "start.search_example": "p. ej., Álgebra, López, honores, 05",
  "start.any_that_apply": "(todas las que correspondan)",
  "form.open_elsewhere": "Esta visita al aula está abierta en otra pestaña. Cierre esa pestaña para editarla aquí.",
  "form.blind":
    "Calibración: puntúe lo que ve, por su cuenta. Nadie ve sus puntuaciones hasta que el facilitador las revela, y " +
    "después ya no puede cambiarlas.",
  "form.student": "Estudiantes",
  "form.adult": "Adultos",
  "form.required": "Obligatorio",
  "dimension.identity": "identidad",
  "dimension.power": "poder",
  "dimension.access": "acceso",
  "dimension.achievement": "logro",
  "form.evidence": "Evidencia",
  "form.evidence_prompt": "¿Qué vio o escuchó?",
  "form.descriptors": "Descriptores de nivel",
  "form.save_home": "Guardar e ir al inicio",
  "form.review_submit": "Revisar y enviar",
  "review.title": "Revisar",
  "form.ratings": "Calificaciones",
  "form.notes_hint": "Patrones, preguntas, qué compartir con el docente",
  "form.timer_pause": "Pausar cronómetro · {time}",
  "form.timer_resume": "Reanudar cronómetro · {time}",
  "review.not_rated": {
    one: "{n} indicador no está calificado. Puede enviar de todos modos o volver.",
    other: "{n} indicadores no están calificados. Puede enviar de todos modos o volver.",
  },
  "review.fix": "Corregirlo en el formulario",
  "review.refused": "El servidor todavía no aceptaría esta visita al aula:",
  "review.under_visit": "{fix} (en <em>Visita</em>)",
  "review.timer": "cronómetro de la visita {timer}",
  "review.back": "Volver al formulario",
  "review.submit": "Enviar",
  "index.jump": "Ir a una competencia",
  "index.out_of_focus": "Fuera del enfoque de hoy: queda sin calificar salvo que lo califique.",
  "index.count": "{count} calificados",
  "missing.rate_or_not_observed": "califíquelo o márquelo como no observado",
  "missing.rate": "califíquelo",
  "missing.nothing": "Todavía no hay nada calificado: califique al menos un indicador antes de enviar.",
  "missing.required": {
    one: "Este indicador es obligatorio antes de enviar:",
    other: "Estos {n} indicadores son obligatorios antes de enviar:",
  },
  "visit.fix": "Corrija antes de enviar:",
  "visit.summary": "<strong>Visita</strong> · hora, duración, aula",
  "visit.summary_session": "<strong>Visita</strong> · hora, duración",
  "visit.began": 'Inicio de la visita <small class="muted">(reloj de esta tableta)</small>',
  "visit.length": "Duración de la visita, en minutos",
  "visit.reset": "Reiniciar el cronómetro",
  "problem.time_missing": "falta la hora de la visita",
  "problem.time_future": "la hora de la visita está en el futuro: indique cuándo empezó la visita",
  "problem.time_early": "la hora de la visita es anterior a 2000: indique cuándo empezó la visita",
  "problem.too_long": {
    one: "la visita dura más de {n} hora: indique cuánto duró",
    other: "la visita dura más de {n} horas: indique cuánto duró",
  },
  "problem.classroom_moved": "esa aula ya no está en {school}: elija el aula",
  "photo.already": "ya está adjunta",
  "photo.at_most": "una visita al aula guarda como máximo {n} fotos",
  "photo.alt": "Foto {n} {label}",
  "photo.until_sent": "En esta tableta hasta que se envíe",
  "photo.remove_label": "Quitar la foto {n} {label}",
  "photo.remove": "Quitar",
  "photo.add": "Agregar una foto",
  "photo.note": "Trabajos de estudiantes o la pizarra: evite las caras de los estudiantes.",
  "photo.of_look_for": "de este indicador",
  "photo.of_walkthrough": "de la visita al aula",
  "photo.saving": "Guardando la foto…",
  "photo.saved": "Foto guardada en esta tableta.",
  "photo.not_added": "No se agregó: {reason}.",
  "photo.unreadable": "No se pudo leer esta imagen ({error}); tómela de nuevo con la cámara.",
  "photo.removed": "Foto quitada.",
  "photo.title": "Fotos",
  "photo.waiting": {
    one: "{n} foto en esta tableta; se envía en la próxima sincronización.",
    other: "{n} fotos en esta tableta; se envían en la próxima sincronización.",
  },
  "photo.not_kept": "El servidor no la guardó: {reason}",
  "discard.ask": "¿Descartar este borrador?",
  "discard.explain": {
    one:
      "Pasa a <em>Descartados</em> en la pantalla de inicio, donde puede restaurarlo durante {n} día. Después se " +
      "elimina de esta tableta, y su copia de seguridad del servidor.",
    other:
      "Pasa a <em>Descartados</em> en la pantalla de inicio, donde puede restaurarlo durante {n} días. Después se " +
      "elimina de esta tableta, y su copia de seguridad del servidor.",
  },
  "discard.keep": "Conservar el borrador",
  "discard.discard": "Descartar el borrador",
  "discard.within_a_day": "se elimina en menos de un día",
  "discard.in_days": {
    one: "se elimina en {n} día",
    other: "se elimina en {n} días",
  },
  "discard.title": "Descartados",
  "discard.restore_label": "Restaurar {place}",
  "discard.restore": "Restaurar",
  "discard.kept": {
    one: "Se guardan en esta tableta {n} día después de descartarlos y luego se eliminan.",
    other: "Se guardan en esta tableta {n} días después de descartarlos y luego se eliminan.",
  },
  "save.gone": "ya no está en esta tableta",
  "save.refused": "Su último cambio no se guardó: {reason}.",
  "save.full": "el almacenamiento de la tableta está lleno",
  "save.failed":
    "<strong>No se guardó</strong> — {reason}. Su cambio se conserva en esta pestaña y se reintenta guardarlo en {n} " +
    "s; no la cierre.",
  "save.submitted_meanwhile": "se envió mientras tanto",
  "feedback.strengths": "Fortalezas",
  "feedback.strengths_hint": "Lo que salió bien, en una o dos frases.",
  "feedback.next_step": "Un próximo paso",
  "feedback.next_step_hint": "Algo para probar a continuación, en una o dos frases.",
  "feedback.open_elsewhere": "Esta visita al aula está abierta en otra pestaña. Cierre esa pestaña para escribir aquí.",
  "feedback.count": {
    one: "{n} de {max} caracteres",
    other: "{n} de {max} caracteres",
  },
  "feedback.intro": "El docente lee esto primero en la retroalimentación de una página. Ambos son opcionales.",
  "feedback.summary": "Fortalezas y próximo paso",
  "app.title": "observe · visitas al aula",
};
